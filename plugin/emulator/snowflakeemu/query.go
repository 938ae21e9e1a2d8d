package snowflakeemu

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// query is one statement the emulator has accepted.
type query struct {
	rec      *QueryRecord
	done     chan struct{}
	cancel   context.CancelFunc
	answer   envelope // final answer, set before done closes
	chunks   [][]byte // gzip-compressed Arrow IPC streams
	chunkKey string
}

// inferRows is how many leading rows are read before column types are
// fixed; expression columns without a declared type take the storage class
// of their first non-NULL value among them. Describe-only queries read the
// same rows, so both agree.
const inferRows = 1000

// Statement type ids the driver switches on.
const (
	statementSelect  = 0x1000
	statementSession = 0x4000
)

type queryRequest struct {
	SQLText      string               `json:"sqlText"`
	AsyncExec    bool                 `json:"asyncExec"`
	DescribeOnly bool                 `json:"describeOnly"`
	Parameters   map[string]any       `json:"parameters"`
	Bindings     map[string]bindParam `json:"bindings"`
	// BindStage names the stage an array binding over
	// CLIENT_STAGE_ARRAY_BINDING_THRESHOLD values was uploaded to.
	BindStage string `json:"bindStage"`
}

func (e *Emulator) handleQuery(w http.ResponseWriter, r *http.Request) {
	s := e.sessionFor(w, r)
	if s == nil {
		return
	}
	var req queryRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad query body", http.StatusBadRequest)
		return
	}
	tag, _ := req.Parameters["QUERY_TAG"].(string)
	ctx, cancel := context.WithCancel(e.ctx)
	q := &query{done: make(chan struct{}), cancel: cancel, chunkKey: newID(), rec: &QueryRecord{
		QueryID: newID(), RequestID: r.URL.Query().Get("requestId"), SQL: req.SQLText, Tag: tag,
		User: s.user, Warehouse: s.warehouse, Role: s.role, DescribeOnly: req.DescribeOnly, Status: "RUNNING", Started: time.Now()}}
	e.mu.Lock()
	e.queries[q.rec.QueryID] = q
	e.byRequestID[q.rec.RequestID] = q
	e.history = append(e.history, q.rec)
	e.mu.Unlock()
	go func() {
		defer close(q.done)
		defer cancel()
		q.answer = e.execute(ctx, s, q, req)
	}()
	e.await(w, r, q)
}

// await answers with the result if it is ready within HoldQuery, and with
// "still running" (333333 plus getResultUrl) otherwise.
func (e *Emulator) await(w http.ResponseWriter, r *http.Request, q *query) {
	t := time.NewTimer(e.opts.HoldQuery)
	defer t.Stop()
	select {
	case <-q.done:
		writeJSON(w, q.answer)
	case <-t.C:
		code := codeStillRunning
		writeJSON(w, envelope{Code: &code, Success: true, Data: map[string]any{
			"getResultUrl": "/queries/" + q.rec.QueryID + "/result", "queryId": q.rec.QueryID}})
	case <-r.Context().Done():
	}
}

func (e *Emulator) handleResult(w http.ResponseWriter, r *http.Request) {
	if e.sessionFor(w, r) == nil {
		return
	}
	e.mu.Lock()
	q := e.queries[r.PathValue("qid")]
	e.mu.Unlock()
	if q == nil {
		writeFail(w, codeCompileNoObject, "Query not found.", nil)
		return
	}
	e.await(w, r, q)
}

func (e *Emulator) handleAbort(w http.ResponseWriter, r *http.Request) {
	if e.sessionFor(w, r) == nil {
		return
	}
	var req struct {
		RequestID string `json:"requestId"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	e.mu.Lock()
	q := e.byRequestID[req.RequestID]
	e.mu.Unlock()
	if q == nil {
		writeFail(w, "000605", "Identified SQL statement is not currently executing.", nil)
		return
	}
	e.mu.Lock()
	if q.rec.Status == "RUNNING" {
		q.rec.Status = "ABORTED"
	}
	e.mu.Unlock()
	q.cancel()
	writeOK(w, nil)
}

func (e *Emulator) handleChunk(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	q := e.queries[r.PathValue("qid")]
	e.chunkGets++
	e.mu.Unlock()
	n, err := strconv.Atoi(r.PathValue("n"))
	if q == nil || err != nil || n < 0 || n >= len(q.chunks) {
		http.NotFound(w, r)
		return
	}
	// Chunks are "presigned": the driver passes chunkHeaders, not the session.
	if r.Header.Get("x-emu-chunk-key") != q.chunkKey {
		http.Error(w, "missing chunk key", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(q.chunks[n])
}

var (
	reSessionStmt = regexp.MustCompile(`(?is)^\s*(?:USE\s+(WAREHOUSE|ROLE|DATABASE|SCHEMA)\s+"?([A-Za-z0-9_$]+)"?|ALTER\s+SESSION\s+(?:UN)?SET\s+.*)\s*;?\s*$`)
	reFrom        = regexp.MustCompile(`(?i)\bFROM\b`)
)

// execute runs one statement and returns the answer to send.
func (e *Emulator) execute(ctx context.Context, s *session, q *query, req queryRequest) envelope {
	if e.opts.Latency > 0 {
		select {
		case <-time.After(e.opts.Latency):
		case <-ctx.Done():
		}
	}
	if m := reSessionStmt.FindStringSubmatch(req.SQLText); m != nil {
		return e.finish(q, e.sessionStatement(s, q, m))
	}
	if req.BindStage != "" {
		return e.finish(q, failure(q, codeNotSupported, "0A000", "the emulator does not serve stage bindings: keep an array binding under CLIENT_STAGE_ARRAY_BINDING_THRESHOLD values"))
	}
	b, err := parseBindings(req.Bindings)
	if err != nil {
		return e.finish(q, failure(q, codeSyntax, "42000", "SQL compilation error:\n"+err.Error()))
	}
	e.mu.Lock()
	sv := sessionValues{Warehouse: s.warehouse, Role: s.role, Database: s.db, Schema: s.schema, User: s.user, Now: e.clock.now(), Schemas: e.schemas}
	if len(req.Bindings) > 0 {
		q.rec.BoundRows = len(b.Rows)
	}
	e.mu.Unlock()
	if kind := statementKind(req.SQLText); kind != "" && !req.DescribeOnly {
		return e.finish(q, e.executeStatement(ctx, q, kind, req, sv, b))
	}
	rw, err := rewrite(req.SQLText, sv)
	if err != nil {
		return e.finish(q, rewriteFailure(q, err))
	}
	if b.Array {
		return e.finish(q, failure(q, codeNotSupported, "0A000", "SQL compilation error:\narray bindings are for INSERT, UPDATE and DELETE"))
	}
	rw.Args = b.Rows[0]
	if !req.DescribeOnly && sv.Warehouse == "" && reFrom.MatchString(rw.SQL) {
		return e.finish(q, failure(q, codeNoWarehouse, "57P03",
			"No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.\n"))
	}
	if rw.Wait > 0 && !req.DescribeOnly {
		select {
		case <-time.After(rw.Wait):
		case <-ctx.Done():
			return e.finish(q, failure(q, codeCanceled, "57014", "SQL execution canceled"))
		}
	}
	answer, err := e.run(ctx, q, rw, req.DescribeOnly)
	if err != nil {
		return e.finish(q, sqlFailure(ctx, q, err))
	}
	return e.finish(q, answer)
}

// finish records the outcome in the history.
func (e *Emulator) finish(q *query, ans envelope) envelope {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case q.rec.Status == "ABORTED":
	case ans.Success:
		q.rec.Status = "SUCCESS"
	default:
		q.rec.Status = "FAILED"
	}
	if ans.Code != nil {
		q.rec.ErrorCode = *ans.Code
	}
	q.rec.Chunks = len(q.chunks)
	q.rec.Elapsed = time.Since(q.rec.Started)
	return ans
}

// rewriteFailure answers a statement the rewrite refused: with the Snowflake error it names (an
// object that does not exist), else as a syntax error.
func rewriteFailure(q *query, err error) envelope {
	var se *statementError
	if errors.As(err, &se) {
		return failure(q, se.code, se.sqlState, se.msg)
	}
	return failure(q, codeSyntax, "42000", err.Error())
}

func failure(q *query, code, sqlState, msg string) envelope {
	return envelope{Code: &code, Message: &msg, Data: map[string]any{"sqlState": sqlState, "queryId": q.rec.QueryID}}
}

var (
	reNoTable  = regexp.MustCompile(`no such table: (\S+)`)
	reNoColumn = regexp.MustCompile(`no such column: (\S+)`)
)

// sqlFailure maps a SQLite error to the Snowflake error the same mistake
// gives on the real service.
func sqlFailure(ctx context.Context, q *query, err error) envelope {
	msg := err.Error()
	switch {
	case ctx.Err() != nil:
		return failure(q, codeCanceled, "57014", "SQL execution canceled")
	case reNoTable.MatchString(msg):
		name := strings.ToUpper(reNoTable.FindStringSubmatch(msg)[1])
		return failure(q, codeCompileNoObject, "42S02", fmt.Sprintf("SQL compilation error:\nObject '%s' does not exist or not authorized.", name))
	case reNoColumn.MatchString(msg):
		name := strings.ToUpper(reNoColumn.FindStringSubmatch(msg)[1])
		return failure(q, codeInvalidIdent, "42000", fmt.Sprintf("SQL compilation error: error line 1 at position 0\ninvalid identifier '%s'", name))
	case strings.Contains(msg, "syntax error") || strings.Contains(msg, "incomplete input"):
		return failure(q, codeSyntax, "42000", "SQL compilation error:\n"+msg)
	}
	return failure(q, codeExecution, "22018", msg)
}

func (e *Emulator) sessionStatement(s *session, q *query, m []string) envelope {
	if m[1] != "" {
		what, name := strings.ToUpper(m[1]), strings.ToUpper(m[2])
		e.mu.Lock()
		defer e.mu.Unlock()
		switch what {
		case "WAREHOUSE":
			if !slices.Contains(upper(e.opts.Warehouses), name) {
				return failure(q, "002043", "02000", "SQL compilation error:\nObject does not exist, or operation cannot be performed.")
			}
			s.warehouse = name
		case "ROLE":
			if !slices.Contains(upper(e.opts.Roles), name) {
				return failure(q, "003013", "42501", fmt.Sprintf("SQL compilation error:\nRole '%s' does not exist or not authorized.", name))
			}
			s.role = name
		}
	}
	status := "Statement executed successfully."
	return envelope{Success: true, Data: map[string]any{
		"queryId": q.rec.QueryID, "queryResultFormat": "json",
		"rowtype": []map[string]any{{"name": "status", "type": "text", "length": maxTextLength, "byteLength": maxTextLength, "nullable": true}},
		"rowset":  [][]*string{{&status}}, "total": 1, "returned": 1,
		"parameters": sessionParameters(), "statementTypeId": statementSession,
	}}
}

// run executes a SELECT on SQLite and builds the Arrow answer: the first
// InlineRows rows inline, the rest as gzip-compressed remote chunks of
// ChunkRows rows each.
func (e *Emulator) run(ctx context.Context, q *query, rw rewritten, describeOnly bool) (envelope, error) {
	rows, err := e.db.QueryContext(ctx, rw.SQL, rw.Args...)
	if err != nil {
		return envelope{}, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return envelope{}, err
	}
	ctypes, err := rows.ColumnTypes()
	if err != nil {
		return envelope{}, err
	}
	raw := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	next := func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		return slices.Clone(raw), nil
	}
	var head [][]any
	for len(head) < inferRows {
		row, err := next()
		if err != nil {
			return envelope{}, err
		}
		if row == nil {
			break
		}
		head = append(head, row)
	}
	cols := resultColumns(rw, names, ctypes, head)
	rowtype := rowTypes(cols)
	if describeOnly {
		return envelope{Success: true, Data: map[string]any{
			"queryId": q.rec.QueryID, "queryResultFormat": "json", "rowtype": rowtype,
			"rowset": [][]*string{}, "total": 0, "returned": 0,
			"parameters": sessionParameters(), "statementTypeId": statementSelect}}, nil
	}
	return e.stream(ctx, q, cols, rowtype, head, next)
}

// stream canonicalises every row and cuts the result into the inline
// rowset and remote chunks.
func (e *Emulator) stream(ctx context.Context, q *query, cols []column, rowtype []map[string]any, head [][]any, next func() ([]any, error)) (envelope, error) {
	var (
		inline     string
		total      int64
		returned   int
		chunkMetas []map[string]any
		buf        = make([][]any, 0, e.opts.InlineRows)
	)
	limit := e.opts.InlineRows
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		stream, err := encodeChunk(cols, buf)
		if err != nil {
			return err
		}
		if inline == "" && len(chunkMetas) == 0 {
			inline, returned = base64.StdEncoding.EncodeToString(stream), len(buf)
		} else {
			gz, err := gzipBytes(stream)
			if err != nil {
				return err
			}
			chunkMetas = append(chunkMetas, map[string]any{
				"url":      fmt.Sprintf("%s/chunks/%s/%d", e.URL(), q.rec.QueryID, len(q.chunks)),
				"rowCount": len(buf), "uncompressedSize": len(stream), "compressedSize": len(gz)})
			q.chunks = append(q.chunks, gz)
		}
		buf = buf[:0]
		limit = e.opts.ChunkRows
		return nil
	}
	add := func(row []any) error {
		for i, c := range cols {
			v, err := Canonical(c.Type, row[i])
			if err != nil {
				return err
			}
			row[i] = v
		}
		buf = append(buf, row)
		total++
		if len(buf) >= limit {
			return flush()
		}
		return nil
	}
	for _, row := range head {
		if err := add(row); err != nil {
			return envelope{}, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return envelope{}, err
		}
		row, err := next()
		if err != nil {
			return envelope{}, err
		}
		if row == nil {
			break
		}
		if err := add(row); err != nil {
			return envelope{}, err
		}
	}
	if err := flush(); err != nil {
		return envelope{}, err
	}
	e.mu.Lock()
	q.rec.Rows = total
	e.mu.Unlock()
	data := map[string]any{
		"queryId": q.rec.QueryID, "queryResultFormat": "arrow", "rowtype": rowtype,
		"rowsetBase64": inline, "total": total, "returned": returned,
		"chunks": chunkMetas, "chunkHeaders": map[string]string{"x-emu-chunk-key": q.chunkKey}, "qrmk": "",
		"parameters": sessionParameters(), "statementTypeId": statementSelect,
		"finalDatabaseName": e.opts.Database, "finalSchemaName": e.opts.Schema,
		"finalWarehouseName": q.rec.Warehouse, "finalRoleName": q.rec.Role,
	}
	if len(chunkMetas) == 0 {
		delete(data, "chunks")
	}
	return envelope{Success: true, Data: data}, nil
}

// resultColumns names and types the result columns. Names follow
// Snowflake: upper-case unless the SQL quoted them. Types come from, in
// order: the select item's cast or typed function, the column's declared
// type in the catalog, the first non-NULL value.
func resultColumns(rw rewritten, names []string, ctypes []*sql.ColumnType, head [][]any) []column {
	cols := make([]column, len(names))
	for i, n := range names {
		if !strings.Contains(rw.SQL, `"`+n+`"`) {
			n = strings.ToUpper(n)
		}
		cols[i].Name = n
		if i < len(rw.Hints) && rw.Hints[i] != nil && len(rw.Hints) == len(names) {
			cols[i].Type = *rw.Hints[i]
			continue
		}
		if t, ok := ParseType(ctypes[i].DatabaseTypeName()); ok {
			cols[i].Type = t
			continue
		}
		cols[i].Type = Type{Kind: "text"}
		for _, row := range head {
			if row[i] != nil {
				cols[i].Type = inferType(row[i])
				break
			}
		}
	}
	return cols
}

func rowTypes(cols []column) []map[string]any {
	out := make([]map[string]any, len(cols))
	for i, c := range cols {
		rt := map[string]any{"name": c.Name, "type": c.Type.Kind, "nullable": true,
			"precision": nil, "scale": nil, "length": nil, "byteLength": nil}
		switch c.Type.Kind {
		case "fixed":
			rt["precision"], rt["scale"] = c.Type.Precision, c.Type.Scale
		case "timestamp_ntz", "timestamp_ltz", "timestamp_tz":
			rt["precision"], rt["scale"] = 0, c.Type.Scale
		case "text", "variant", "array", "object":
			rt["length"], rt["byteLength"] = maxTextLength, maxTextLength
		case "binary":
			rt["length"], rt["byteLength"] = maxBinaryLength, maxBinaryLength
		}
		out[i] = rt
	}
	return out
}
