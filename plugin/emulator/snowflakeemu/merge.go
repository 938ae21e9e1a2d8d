package snowflakeemu

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
)

// MERGE runs as SQLite statements inside one write transaction:
//
//	MERGE INTO target t USING source s ON cond
//	  WHEN MATCHED [AND c] THEN UPDATE SET col = expr, …  |  THEN DELETE
//	  WHEN NOT MATCHED [AND c] THEN INSERT [(cols)] VALUES (exprs)
//
// becomes an INSERT … SELECT of the source rows no target row matches, then the UPDATE … FROM and
// DELETE of the matched rows, restricted to the rows that existed before the INSERT (by rowid), so
// each clause sees the target as it was, as on Snowflake. Bound values may appear in the source
// only (each generated statement holds it once). A target row matched by several source rows is
// updated from one of them; Snowflake would refuse the MERGE as nondeterministic.

var (
	reMergeHead = regexp.MustCompile(`(?is)^\s*MERGE\s+INTO\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)(?:\s+(?:AS\s+)?([A-Za-z_][A-Za-z0-9_$]*))?\s+USING\s`)
	reWhen      = regexp.MustCompile(`(?is)^WHEN\s+(NOT\s+)?MATCHED\b(?:\s+AND\s+(.*?))?\s+THEN\s+(UPDATE\s+SET\s+(.*)|DELETE|INSERT\s*(\(.*?\))?\s*VALUES\s*\((.*)\))\s*;?\s*$`)
	reSourceEnd = regexp.MustCompile(`(?is)^(.*?)(?:\s+(?:AS\s+)?([A-Za-z_][A-Za-z0-9_$]*))?$`)
)

type mergeClause struct {
	matched bool
	cond    string
	update  string // SET list
	delete  bool
	cols    string // "(a, b)" or ""
	values  string
}

type mergeStmt struct {
	target, alias  string
	source, salias string
	on             string
	clauses        []mergeClause
}

// topLevelKeyword finds the next occurrence of kw (a regexp matching at the start) at depth 0
// outside literals, from position from.
func topLevelKeyword(s string, kw *regexp.Regexp, from int) int {
	depth := 0
	for i := from; i < len(s); {
		if j := skipQuoted(s, i); j != i {
			i = j
			continue
		}
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		default:
			if depth == 0 && (i == 0 || !isIdentByte(s[i-1])) && kw.MatchString(s[i:]) {
				return i
			}
		}
		i++
	}
	return -1
}

var (
	kwOn   = regexp.MustCompile(`(?i)^ON\s`)
	kwWhen = regexp.MustCompile(`(?i)^WHEN\s+(NOT\s+)?MATCHED\b`)
)

func parseMerge(stmt string) (*mergeStmt, error) {
	head := reMergeHead.FindStringSubmatchIndex(stmt)
	if head == nil {
		return nil, compileError(codeSyntax, "syntax error: MERGE INTO target [alias] USING source alias ON … expected")
	}
	m := &mergeStmt{}
	t, _ := readIdent(stmt, head[2])
	m.target, m.alias = t.name, t.name
	if head[4] >= 0 {
		m.alias = stmt[head[4]:head[5]]
	}
	on := topLevelKeyword(stmt, kwOn, head[1])
	if on < 0 {
		return nil, compileError(codeSyntax, "syntax error: MERGE without ON")
	}
	src := reSourceEnd.FindStringSubmatch(strings.TrimSpace(stmt[head[1]:on]))
	m.source, m.salias = src[1], src[2]
	if m.salias == "" {
		return nil, compileError(codeNotSupported, "the emulator needs an alias for the MERGE source")
	}
	first := topLevelKeyword(stmt, kwWhen, on)
	if first < 0 {
		return nil, compileError(codeSyntax, "syntax error: MERGE without WHEN")
	}
	m.on = strings.TrimSpace(stmt[on+2 : first])
	for pos := first; pos >= 0; {
		next := topLevelKeyword(stmt, kwWhen, pos+4)
		end := len(stmt)
		if next >= 0 {
			end = next
		}
		w := reWhen.FindStringSubmatch(strings.TrimSpace(stmt[pos:end]))
		if w == nil {
			return nil, compileError(codeSyntax, "syntax error in '%s'", strings.TrimSpace(stmt[pos:end]))
		}
		c := mergeClause{matched: w[1] == "", cond: w[2], update: w[4], cols: w[5], values: w[6]}
		c.delete = strings.EqualFold(w[3], "DELETE")
		if c.matched == (c.values != "") || !c.matched && (c.update != "" || c.delete) {
			return nil, compileError(codeSyntax, "syntax error: WHEN MATCHED takes UPDATE or DELETE, WHEN NOT MATCHED takes INSERT")
		}
		m.clauses = append(m.clauses, c)
		pos = next
	}
	return m, nil
}

// unqualifySet drops "alias." from the left of each assignment: SQLite's SET takes bare names.
func unqualifySet(set, alias string) string {
	items := splitTopLevel(set, ',')
	for i, it := range items {
		it = strings.TrimSpace(it)
		if len(it) > len(alias)+1 && strings.EqualFold(it[:len(alias)+1], alias+".") {
			it = it[len(alias)+1:]
		}
		items[i] = it
	}
	return strings.Join(items, ", ")
}

func (e *Emulator) merge(ctx context.Context, stmt string, b bound) (statementResult, error) {
	m, err := parseMerge(stmt)
	if err != nil {
		return statementResult{}, err
	}
	if len(b.Rows) != 1 {
		return statementResult{}, compileError(codeNotSupported, "the emulator does not run MERGE with array bindings")
	}
	args := b.Rows[0]
	target := quoteIdent(m.target)
	var inserted, updated, deleted int64
	hasDelete := false
	_, err = e.inTransaction(ctx, func(conn *sql.Conn) (int64, error) {
		var maxRowid sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT max(rowid) FROM "+target).Scan(&maxRowid); err != nil {
			return 0, err
		}
		var earlier []string // conditions of earlier clauses of the same kind
		var earlierNot []string
		for _, c := range m.clauses {
			cond := "TRUE"
			if c.cond != "" {
				cond = "(" + c.cond + ")"
			}
			prior := earlier
			if !c.matched {
				prior = earlierNot
			}
			guard := cond
			for _, p := range prior {
				guard += " AND NOT COALESCE(" + p + ", FALSE)"
			}
			var q string
			switch {
			case !c.matched:
				q = "INSERT INTO " + target + " " + c.cols + " SELECT " + c.values + " FROM " + m.source + " AS " + m.salias +
					" WHERE NOT EXISTS (SELECT 1 FROM " + target + " AS " + m.alias + " WHERE " + m.on + ") AND " + guard
				earlierNot = append(earlierNot, cond)
			case c.delete:
				hasDelete = true
				q = "DELETE FROM " + target + " AS " + m.alias + " WHERE " + m.alias + ".rowid <= " + fmtRowid(maxRowid) +
					" AND EXISTS (SELECT 1 FROM " + m.source + " AS " + m.salias + " WHERE " + m.on + " AND " + guard + ")"
				earlier = append(earlier, cond)
			default:
				q = "UPDATE " + target + " AS " + m.alias + " SET " + unqualifySet(c.update, m.alias) + " FROM " + m.source + " AS " + m.salias +
					" WHERE " + m.alias + ".rowid <= " + fmtRowid(maxRowid) + " AND " + m.on + " AND " + guard
				earlier = append(earlier, cond)
			}
			res, err := conn.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, err
			}
			n, _ := res.RowsAffected()
			switch {
			case !c.matched:
				inserted += n
			case c.delete:
				deleted += n
			default:
				updated += n
			}
		}
		return 0, nil
	})
	if err != nil {
		return statementResult{}, err
	}
	res := statementResult{typeID: statementMerge, counts: []string{"number of rows inserted", "number of rows updated"},
		values: []int64{inserted, updated}}
	if hasDelete {
		res.counts, res.values = append(res.counts, "number of rows deleted"), append(res.values, deleted)
	}
	return res, nil
}

func fmtRowid(v sql.NullInt64) string {
	if !v.Valid {
		return "0"
	}
	return strconv.FormatInt(v.Int64, 10)
}
