package snowflakeemu

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
)

// Statements other than queries: DDL (CREATE/DROP SCHEMA and TABLE, TRUNCATE) and DML (INSERT,
// UPDATE, DELETE, MERGE), with bound values and gosnowflake's array binding. DML answers with the
// counts Snowflake returns, which the driver turns into RowsAffected.

// Statement type ids (Snowflake's statementTypeId) the driver switches on: DML is 0x3000–0x3500.
const (
	statementInsert = 0x3100
	statementUpdate = 0x3200
	statementDelete = 0x3300
	statementMerge  = 0x3400
	statementDDL    = 0x6000
)

// Snowflake error codes of the statements.
const (
	codeObjectExists = "002002"
	codeNotSupported = "000002"
)

var reStatementKind = regexp.MustCompile(`(?is)^\s*(CREATE|DROP|INSERT|UPDATE|DELETE|MERGE|TRUNCATE|BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK)\b`)

// statementKind names the statement kind of sqlText (upper case), or "" for a query.
func statementKind(sqlText string) string {
	m := reStatementKind.FindStringSubmatch(stripLeadingComments(sqlText))
	if m == nil {
		return ""
	}
	return strings.ToUpper(strings.Fields(m[1])[0])
}

func stripLeadingComments(s string) string {
	for {
		t := strings.TrimLeft(s, " \t\r\n")
		if j := skipQuoted(t, 0); len(t) > 0 && j != 0 && (strings.HasPrefix(t, "--") || strings.HasPrefix(t, "/*")) {
			s = t[j:]
			continue
		}
		return t
	}
}

// statementResult is the outcome of a DDL or DML statement.
type statementResult struct {
	typeID int
	status string   // DDL: the status line
	counts []string // DML: rowtype names of the counts
	values []int64  // DML: the counts
}

// executeStatement runs one DDL or DML statement.
func (e *Emulator) executeStatement(ctx context.Context, q *query, kind string, req queryRequest, sv sessionValues, b bound) envelope {
	if kind == "BEGIN" || kind == "START" || kind == "COMMIT" || kind == "ROLLBACK" {
		return failure(q, codeNotSupported, "0A000", "SQL compilation error:\nthe emulator runs every statement in its own transaction; explicit transactions are not supported")
	}
	if kind == "CREATE" || kind == "DROP" {
		if res, ok, err := e.schemaStatement(req.SQLText); ok {
			return e.statementAnswer(q, res, err)
		}
	}
	rw, err := rewrite(req.SQLText, sv)
	if err != nil {
		return rewriteFailure(q, err)
	}
	if kind != "CREATE" && kind != "DROP" && kind != "TRUNCATE" && sv.Warehouse == "" {
		return failure(q, codeNoWarehouse, "57P03",
			"No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.\n")
	}
	var res statementResult
	switch kind {
	case "CREATE":
		res, err = e.createTable(ctx, rw.SQL)
	case "DROP":
		res, err = e.dropTable(ctx, rw.SQL)
	case "TRUNCATE":
		res, err = e.truncate(ctx, rw.SQL)
	case "MERGE":
		res, err = e.merge(ctx, rw.SQL, b)
	default:
		res, err = e.dml(ctx, kind, rw.SQL, b)
	}
	return e.statementAnswer(q, res, err)
}

// statementAnswer is the JSON answer of a statement, or its error.
func (e *Emulator) statementAnswer(q *query, res statementResult, err error) envelope {
	if err != nil {
		if se, ok := err.(*statementError); ok {
			return failure(q, se.code, se.sqlState, se.msg)
		}
		return sqlFailure(context.Background(), q, err)
	}
	var total int64
	for _, v := range res.values {
		total += v
	}
	e.mu.Lock()
	q.rec.RowsAffected = total
	e.mu.Unlock()
	data := map[string]any{"queryId": q.rec.QueryID, "queryResultFormat": "json",
		"parameters": sessionParameters(), "statementTypeId": res.typeID}
	if res.counts == nil {
		status := res.status
		data["rowtype"] = []map[string]any{{"name": "status", "type": "text", "length": maxTextLength, "byteLength": maxTextLength, "nullable": true}}
		data["rowset"] = [][]*string{{&status}}
	} else {
		rt := make([]map[string]any, len(res.counts))
		row := make([]*string, len(res.counts))
		for i, name := range res.counts {
			rt[i] = map[string]any{"name": name, "type": "fixed", "precision": 19, "scale": 0, "nullable": false}
			v := fmt.Sprint(res.values[i])
			row[i] = &v
		}
		data["rowtype"], data["rowset"] = rt, [][]*string{row}
	}
	data["total"], data["returned"] = 1, 1
	return envelope{Success: true, Data: data}
}

// statementError is an error with its Snowflake code.
type statementError struct{ code, sqlState, msg string }

func (e *statementError) Error() string { return e.msg }

func compileError(code, format string, args ...any) error {
	return &statementError{code: code, sqlState: "42000", msg: "SQL compilation error:\n" + fmt.Sprintf(format, args...)}
}

// dml runs INSERT, UPDATE or DELETE once per bound row, in one SQLite transaction, so an array
// binding of many rows is applied whole or not at all.
func (e *Emulator) dml(ctx context.Context, kind, stmt string, b bound) (statementResult, error) {
	n, err := e.inTransaction(ctx, func(conn *sql.Conn) (int64, error) {
		prepared, err := conn.PrepareContext(ctx, stmt)
		if err != nil {
			return 0, err
		}
		defer prepared.Close()
		var total int64
		for _, row := range b.Rows {
			r, err := prepared.ExecContext(ctx, row...)
			if err != nil {
				return 0, err
			}
			n, _ := r.RowsAffected()
			total += n
		}
		return total, nil
	})
	if err != nil {
		return statementResult{}, err
	}
	switch kind {
	case "INSERT":
		return statementResult{typeID: statementInsert, counts: []string{"number of rows inserted"}, values: []int64{n}}, nil
	case "UPDATE":
		return statementResult{typeID: statementUpdate, counts: []string{"number of rows updated", "number of multi-joined rows updated"}, values: []int64{n, 0}}, nil
	}
	return statementResult{typeID: statementDelete, counts: []string{"number of rows deleted"}, values: []int64{n}}, nil
}

// inTransaction runs fn on one connection inside BEGIN IMMEDIATE … COMMIT: writers queue for
// SQLite's write lock, as DML on one Snowflake table queues for its lock.
func (e *Emulator) inTransaction(ctx context.Context, fn func(*sql.Conn) (int64, error)) (int64, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, err
	}
	n, err := fn(conn)
	if err != nil {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		return 0, err
	}
	return n, nil
}
