package snowflakeemu

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The emulator runs Snowflake SQL on SQLite after a light, textual rewrite.
// It is not a parser: it understands quotes, parentheses and a handful of
// Snowflake forms, which is all the recipes and tests need.
//
//   - x::T and CAST(x AS T) become sf_cast(x, 'T'), which converts the value
//     to the emulator's storage form for Snowflake type T (see Canonical).
//   - DATEADD/DATEDIFF/DATE_PART/DATE_TRUNC take their bare date part
//     (day, week, epoch_second, ...) as a string.
//   - CURRENT_WAREHOUSE()/ROLE()/DATABASE()/SCHEMA()/USER() and
//     CURRENT_TIMESTAMP/CURRENT_DATE become literals from the session and
//     the emulator's clock (typed TIMESTAMP_LTZ and DATE); SYSTEM$WAIT(n) becomes a literal and makes the
//     query take n seconds longer.
//   - <database>.<schema>. and <schema>. qualifiers are dropped for the
//     default schema; names in other schemas become "SCHEMA.TABLE"
//     (schemas.go).

// sessionValues are the literals substituted for context functions.
type sessionValues struct {
	Warehouse, Role, Database, Schema, User string
	Now                                     time.Time
	// Schemas are the schemas besides the default one (nil: none).
	Schemas *schemaSet
}

// rewritten is a statement ready for SQLite plus what the rewrite learned.
type rewritten struct {
	SQL string
	// Hints holds, per top-level select item, the Snowflake type its
	// outermost cast or typed function declares (nil when none).
	Hints []*Type
	// Wait is the total of SYSTEM$WAIT calls.
	Wait time.Duration
	// Args are the statement's bound values, in placeholder order.
	Args []any
}

var (
	reWait        = regexp.MustCompile(`(?i)SYSTEM\$WAIT\(\s*([0-9.]+)\s*\)`)
	reContextFunc = regexp.MustCompile(`(?i)\bCURRENT_(WAREHOUSE|ROLE|DATABASE|SCHEMA|USER)\(\s*\)`)
	reNow         = regexp.MustCompile(`(?i)\bCURRENT_(TIMESTAMP|DATE)\b(\(\s*\))?`)
	reDatePartFn  = regexp.MustCompile(`(?i)\b(DATEADD|DATEDIFF|DATE_PART|DATE_TRUNC|TIMESTAMPADD|TIMESTAMPDIFF)\s*\(\s*([A-Za-z_]+)\s*,`)
)

// rewrite turns Snowflake SQL into SQLite SQL.
func rewrite(sql string, sv sessionValues) (rewritten, error) {
	var out rewritten
	s := strings.TrimSpace(sql)
	s = strings.TrimRight(s, "; \t\n")
	var werr error
	s = reWait.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseFloat(reWait.FindStringSubmatch(m)[1], 64)
		if err != nil {
			werr = err
		}
		out.Wait += time.Duration(n * float64(time.Second))
		return fmt.Sprintf("'waited %s seconds'", reWait.FindStringSubmatch(m)[1])
	})
	if werr != nil {
		return out, fmt.Errorf("SYSTEM$WAIT: %w", werr)
	}
	s = reContextFunc.ReplaceAllStringFunc(s, func(m string) string {
		var v string
		switch strings.ToUpper(reContextFunc.FindStringSubmatch(m)[1]) {
		case "WAREHOUSE":
			v = sv.Warehouse
		case "ROLE":
			v = sv.Role
		case "DATABASE":
			v = sv.Database
		case "SCHEMA":
			v = sv.Schema
		case "USER":
			v = sv.User
		}
		if v == "" {
			return "NULL"
		}
		return quoteLiteral(v)
	})
	// Typed as on Snowflake (TIMESTAMP_LTZ and DATE), so a selected
	// CURRENT_TIMESTAMP() is a timestamp column, not text.
	s = reNow.ReplaceAllStringFunc(s, func(m string) string {
		if strings.EqualFold(reNow.FindStringSubmatch(m)[1], "DATE") {
			return "CAST(" + quoteLiteral(sv.Now.UTC().Format(dayLayout)) + " AS DATE)"
		}
		return "CAST(" + quoteLiteral(sv.Now.UTC().Format(tzLayout)) + " AS TIMESTAMP_LTZ)"
	})
	s = reDatePartFn.ReplaceAllString(s, "$1('$2',")
	s = dropQualifiers(s, sv.Database, sv.Schema)
	s, err := sv.Schemas.qualify(s, sv.Database)
	if err != nil {
		return out, err
	}
	s, err = rewriteColonCasts(s)
	if err != nil {
		return out, err
	}
	out.Hints = selectHints(s)
	s, err = rewriteCasts(s)
	if err != nil {
		return out, err
	}
	out.SQL = s
	return out, nil
}

func quoteLiteral(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// dropQualifiers removes DB.SCHEMA. and SCHEMA. prefixes: the emulator has
// one database with one schema.
func dropQualifiers(s, database, schema string) string {
	if schema == "" {
		return s
	}
	pat := `(?i)\b(?:` + regexp.QuoteMeta(database) + `\.)?` + regexp.QuoteMeta(schema) + `\.`
	return regexp.MustCompile(pat).ReplaceAllString(s, "")
}

// skipQuoted returns the index just past a quoted run starting at s[i]
// (single-quoted literal, double-quoted identifier, or comment), or i when
// s[i] does not start one.
func skipQuoted(s string, i int) int {
	switch {
	case s[i] == '\'' || s[i] == '"':
		q := s[i]
		for j := i + 1; j < len(s); j++ {
			if s[j] == q {
				if j+1 < len(s) && s[j+1] == q {
					j++
					continue
				}
				return j + 1
			}
		}
		return len(s)
	case strings.HasPrefix(s[i:], "--"):
		if n := strings.IndexByte(s[i:], '\n'); n >= 0 {
			return i + n + 1
		}
		return len(s)
	case strings.HasPrefix(s[i:], "/*"):
		if n := strings.Index(s[i+2:], "*/"); n >= 0 {
			return i + 2 + n + 2
		}
		return len(s)
	}
	return i
}

// matchParen returns the index of the ')' closing the '(' at s[open].
func matchParen(s string, open int) (int, error) {
	depth := 0
	for i := open; i < len(s); {
		if j := skipQuoted(s, i); j != i {
			i = j
			continue
		}
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
		i++
	}
	return 0, fmt.Errorf("SQL compilation error: unbalanced parentheses")
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// rewriteColonCasts turns every x::T into CAST(x AS T), leftmost first, so
// chained casts nest naturally.
func rewriteColonCasts(s string) (string, error) {
	for {
		pos := -1
		for i := 0; i < len(s)-1; {
			if j := skipQuoted(s, i); j != i {
				i = j
				continue
			}
			if s[i] == ':' && s[i+1] == ':' {
				pos = i
				break
			}
			i++
		}
		if pos < 0 {
			return s, nil
		}
		start, err := operandStart(s, pos)
		if err != nil {
			return "", err
		}
		end := pos + 2
		for end < len(s) && s[end] == ' ' {
			end++
		}
		typeStart := end
		for end < len(s) && (isIdentByte(s[end]) && s[end] != '.') {
			end++
		}
		if end < len(s) && s[end] == '(' {
			close, err := matchParen(s, end)
			if err != nil {
				return "", err
			}
			end = close + 1
		}
		if typeStart == end {
			return "", fmt.Errorf("SQL compilation error: missing type after '::'")
		}
		s = s[:start] + "CAST(" + s[start:pos] + " AS " + s[typeStart:end] + ")" + s[end:]
	}
}

// operandStart finds where the operand ending just before s[end] begins:
// a parenthesised group (with its function name), a quoted literal or
// identifier, or a run of identifier characters.
func operandStart(s string, end int) (int, error) {
	i := end - 1
	for i >= 0 && s[i] == ' ' {
		i--
	}
	if i < 0 {
		return 0, fmt.Errorf("SQL compilation error: missing operand before '::'")
	}
	switch s[i] {
	case ')':
		depth := 0
		for ; i >= 0; i-- {
			if s[i] == ')' {
				depth++
			} else if s[i] == '(' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		for i > 0 && isIdentByte(s[i-1]) {
			i--
		}
		return max(i, 0), nil
	case '\'', '"':
		q := s[i]
		for i--; i >= 0 && s[i] != q; i-- {
		}
		for i > 0 && (isIdentByte(s[i-1]) || s[i-1] == '"') {
			i--
		}
		return max(i, 0), nil
	}
	for i > 0 && (isIdentByte(s[i-1]) || s[i-1] == '"') {
		i--
	}
	return i, nil
}

var reCastStart = regexp.MustCompile(`(?i)\bCAST\s*\(`)

// rewriteCasts turns CAST(e AS T) into sf_cast(e, 'T') for Snowflake types.
func rewriteCasts(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if j := skipQuoted(s, i); j != i {
			b.WriteString(s[i:j])
			i = j
			continue
		}
		loc := reCastStart.FindStringIndex(s[i:])
		if loc == nil || loc[0] != 0 || (i > 0 && isIdentByte(s[i-1])) {
			b.WriteByte(s[i])
			i++
			continue
		}
		open := i + loc[1] - 1
		close, err := matchParen(s, open)
		if err != nil {
			return "", err
		}
		inner, err := rewriteCasts(s[open+1 : close])
		if err != nil {
			return "", err
		}
		expr, typ, ok := splitLastAs(inner)
		if _, known := ParseType(typ); !ok || !known {
			b.WriteString(s[i:open+1] + inner + ")")
		} else {
			fmt.Fprintf(&b, "sf_cast(%s, %s)", expr, quoteLiteral(strings.TrimSpace(typ)))
		}
		i = close + 1
	}
	return b.String(), nil
}

var reAs = regexp.MustCompile(`(?i)\sAS\s`)

// splitLastAs splits "expr AS type" at its last top-level AS.
func splitLastAs(s string) (expr, typ string, ok bool) {
	last := -1
	depth := 0
	for i := 0; i < len(s); {
		if j := skipQuoted(s, i); j != i {
			i = j
			continue
		}
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 {
			if loc := reAs.FindStringIndex(s[i:]); loc != nil && loc[0] == 0 {
				last = i
			}
		}
		i++
	}
	if last < 0 {
		return s, "", false
	}
	return s[:last], strings.TrimSpace(s[last+4:]), true
}

// typedFuncs are functions whose result type is fixed whatever their input.
var typedFuncs = map[string]string{
	"TO_TIMESTAMP": "TIMESTAMP_NTZ", "TO_TIMESTAMP_NTZ": "TIMESTAMP_NTZ",
	"TO_TIMESTAMP_LTZ": "TIMESTAMP_LTZ", "TO_TIMESTAMP_TZ": "TIMESTAMP_TZ",
	"TO_DATE": "DATE", "PARSE_JSON": "VARIANT", "TO_VARIANT": "VARIANT",
	"TO_BOOLEAN": "BOOLEAN", "TO_VARCHAR": "VARCHAR", "TO_CHAR": "VARCHAR",
}

var (
	reAlias    = regexp.MustCompile(`(?is)^(.*?)\s+(?:AS\s+)?("(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)$`)
	reCallHead = regexp.MustCompile(`(?i)^([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
)

// selectHints reads the outermost select list and returns, per item, the
// type its outermost CAST or typed function declares.
func selectHints(s string) []*Type {
	items := topSelectItems(s)
	hints := make([]*Type, len(items))
	for n, item := range items {
		item = strings.TrimSpace(item)
		if !strings.HasSuffix(item, ")") {
			if m := reAlias.FindStringSubmatch(item); m != nil {
				item = strings.TrimSpace(m[1])
			}
		}
		head := reCallHead.FindStringSubmatch(item)
		if head == nil {
			continue
		}
		open := len(head[0]) - 1
		if close, err := matchParen(item, open); err != nil || close != len(item)-1 {
			continue
		}
		name := strings.ToUpper(head[1])
		var typ string
		if name == "CAST" {
			_, typ, _ = splitLastAs(item[open+1 : len(item)-1])
		} else {
			typ = typedFuncs[name]
		}
		if t, ok := ParseType(typ); ok {
			hints[n] = &t
		}
	}
	return hints
}

var reDistinct = regexp.MustCompile(`(?i)^\s+DISTINCT\b`)

var reKeyword = regexp.MustCompile(`(?i)^(SELECT|FROM|WHERE|GROUP|ORDER|LIMIT|UNION|HAVING|QUALIFY)\b`)

// topSelectItems splits the outermost SELECT's list on top-level commas.
func topSelectItems(s string) []string {
	depth, start := 0, -1
	var items []string
	last := 0
	for i := 0; i < len(s); {
		if j := skipQuoted(s, i); j != i {
			i = j
			continue
		}
		c := s[i]
		switch {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0 && start >= 0:
			items = append(items, s[last:i])
			last = i + 1
		case depth == 0 && (i == 0 || !isIdentByte(s[i-1])):
			if kw := reKeyword.FindString(s[i:]); kw != "" {
				if start < 0 && strings.EqualFold(kw, "SELECT") {
					start = i + len(kw)
					last = start
					if d := reDistinct.FindString(s[start:]); d != "" {
						last += len(d)
					}
				} else if start >= 0 {
					return append(items, s[last:i])
				}
			}
		}
		i++
	}
	if start < 0 {
		return nil
	}
	return append(items, s[last:])
}
