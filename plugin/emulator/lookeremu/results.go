package lookeremu

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// fieldJSON is a json_detail field entry (LookmlModelExploreField subset).
type fieldJSON struct {
	Name       string   `json:"name"`
	Label      string   `json:"label"`
	LabelShort string   `json:"label_short"`
	ViewLabel  string   `json:"view_label"`
	Type       string   `json:"type"`
	Tags       []string `json:"tags"`
	Measure    bool     `json:"measure"`
	IsNumeric  bool     `json:"is_numeric"`
	Hidden     bool     `json:"hidden"`
	View       string   `json:"view"`
	SQL        string   `json:"sql"`
}

type calcJSON struct {
	Name       string   `json:"name"`
	Label      string   `json:"label"`
	Expression string   `json:"expression"`
	Tags       []string `json:"tags"`
	IsNumeric  bool     `json:"is_numeric"`
}

type pivotJSON struct {
	Key      string            `json:"key"`
	IsTotal  bool              `json:"is_total"`
	Data     map[string]string `json:"data"`
	Metadata map[string]any    `json:"metadata"`
}

var numericTypes = map[string]bool{"number": true, "count": true, "count_distinct": true, "sum": true, "average": true, "min": true, "max": true}

func toFieldJSON(f Field) fieldJSON {
	view, _, _ := strings.Cut(f.Name, ".")
	tags := f.Tags
	if tags == nil {
		tags = []string{}
	}
	return fieldJSON{Name: f.Name, Label: f.Label, LabelShort: f.Label, ViewLabel: view, Type: f.Type,
		Tags: tags, Measure: f.Measure, IsNumeric: numericTypes[f.Type], View: view,
		SQL: "${TABLE}." + strings.ToUpper(f.Name[len(view)+1:])}
}

// writeJSONDetail writes the whole json_detail document for r to w,
// generating rows as it goes.
func (s *Server) writeJSONDetail(w io.Writer, r *resolved) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var pivots []string
	if r.pivotField != nil {
		pivots = r.pivotValues()
	}
	head := func() error { return s.writeFields(bw, r, pivots) }
	fmt.Fprintf(bw, `{"status":"complete","from_cache":false,"id":"emu","result_source":"query","supports_pivot_in_db":true,"expired":false,"ran_at":"2026-01-01T00:00:00+00:00","runtime":"0.1","sql":"SELECT …",`)
	if !s.opts.DataBeforeFields {
		if err := head(); err != nil {
			return err
		}
		bw.WriteString(",")
	}
	bw.WriteString(`"data":[`)
	if err := s.writeRows(bw, r, pivots); err != nil {
		return err
	}
	bw.WriteString("]")
	if s.opts.DataBeforeFields {
		bw.WriteString(",")
		if err := head(); err != nil {
			return err
		}
	}
	bw.WriteString(`,"drill_menu_build_time":0.1}`)
	return bw.Flush()
}

func (s *Server) writeFields(w *bufio.Writer, r *resolved, pivots []string) error {
	var fields struct {
		Dimensions        []fieldJSON `json:"dimensions"`
		Measures          []fieldJSON `json:"measures"`
		Filters           []fieldJSON `json:"filters"`
		Parameters        []fieldJSON `json:"parameters"`
		Pivots            []fieldJSON `json:"pivots"`
		TableCalculations []calcJSON  `json:"table_calculations"`
	}
	fields.Dimensions, fields.Measures = []fieldJSON{}, []fieldJSON{}
	fields.Filters, fields.Parameters, fields.Pivots = []fieldJSON{}, []fieldJSON{}, []fieldJSON{}
	fields.TableCalculations = []calcJSON{}
	for _, f := range r.dims {
		fields.Dimensions = append(fields.Dimensions, toFieldJSON(f))
	}
	for _, f := range r.measures {
		fields.Measures = append(fields.Measures, toFieldJSON(f))
	}
	if r.pivotField != nil {
		fields.Pivots = append(fields.Pivots, toFieldJSON(*r.pivotField))
	}
	for _, c := range r.q.TableCalcs {
		tags := c.Tags
		if tags == nil {
			tags = []string{}
		}
		fields.TableCalculations = append(fields.TableCalculations,
			calcJSON{Name: c.Name, Label: c.Label, Expression: "…", Tags: tags, IsNumeric: c.IsNumeric})
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encoding fields: %w", err)
	}
	w.WriteString(`"fields":`)
	w.Write(b)
	if r.pivotField != nil {
		list := make([]pivotJSON, len(pivots))
		for i, p := range pivots {
			list[i] = pivotJSON{Key: r.pivotKey(p), Data: map[string]string{r.pivotField.Name: p}, Metadata: map[string]any{}}
		}
		b, _ := json.Marshal(list)
		w.WriteString(`,"pivots":`)
		w.Write(b)
	}
	tz := s.opts.Timezone
	if tz == "" {
		tz = "UTC"
	}
	fmt.Fprintf(w, `,"has_totals":false,"has_row_totals":false,"applied_filters":{},"timezone":%q`, tz)
	return nil
}

func (s *Server) writeRows(w *bufio.Writer, r *resolved, pivots []string) error {
	if r.pivotField != nil {
		return s.writePivotRows(w, r, pivots)
	}
	limit, _ := r.q.rowLimit()
	n := 0
	for i := 0; i < r.view.Rows && (limit < 0 || n < limit); i++ {
		vals := r.view.Row(i)
		if !r.q.matches(vals) {
			continue
		}
		if n > 0 {
			w.WriteByte(',')
		}
		n++
		w.WriteByte('{')
		first := true
		for _, f := range append(append([]Field(nil), r.dims...), r.measures...) {
			writeCell(w, &first, f.Name, vals[f.Name])
		}
		for _, c := range r.q.TableCalcs {
			writeCell(w, &first, c.Name, c.Calc(vals))
		}
		w.WriteString("}\n")
	}
	return nil
}

func writeCell(w *bufio.Writer, first *bool, name string, v any) {
	if !*first {
		w.WriteByte(',')
	}
	*first = false
	k, _ := json.Marshal(name)
	val, _ := json.Marshal(v)
	w.Write(k)
	w.WriteString(`:{"value":`)
	w.Write(val)
	w.WriteByte('}')
}

// writePivotRows groups rows by the non-pivot dimensions and sums each
// measure per pivot value. Pivoted results are held in memory: the emulator
// pivots only small seeded sets.
func (s *Server) writePivotRows(w *bufio.Writer, r *resolved, pivots []string) error {
	type group struct {
		dims Values
		sums map[string]Values // pivot value → measure → sum
	}
	var order []string
	groups := map[string]*group{}
	for i := 0; i < r.view.Rows; i++ {
		vals := r.view.Row(i)
		if !r.q.matches(vals) {
			continue
		}
		var key strings.Builder
		for _, d := range r.dims {
			fmt.Fprintf(&key, "%v\x00", vals[d.Name])
		}
		g, ok := groups[key.String()]
		if !ok {
			g = &group{dims: Values{}, sums: map[string]Values{}}
			for _, d := range r.dims {
				g.dims[d.Name] = vals[d.Name]
			}
			groups[key.String()] = g
			order = append(order, key.String())
		}
		pv := fmt.Sprint(vals[r.pivotField.Name])
		if g.sums[pv] == nil {
			g.sums[pv] = Values{}
		}
		for _, m := range r.measures {
			g.sums[pv][m.Name] = toFloat(g.sums[pv][m.Name]) + toFloat(vals[m.Name])
		}
	}
	limit, _ := r.q.rowLimit()
	for n, k := range order {
		if limit >= 0 && n >= limit {
			break
		}
		g := groups[k]
		if n > 0 {
			w.WriteByte(',')
		}
		w.WriteByte('{')
		first := true
		for _, d := range r.dims {
			writeCell(w, &first, d.Name, g.dims[d.Name])
		}
		for _, m := range r.measures {
			cells := map[string]map[string]any{}
			for _, p := range pivots {
				var v any
				if sums := g.sums[p]; sums != nil {
					v = sums[m.Name]
				}
				cells[r.pivotKey(p)] = map[string]any{"value": v}
			}
			b, _ := json.Marshal(m.Name)
			c, _ := json.Marshal(cells)
			if !first {
				w.WriteByte(',')
			}
			first = false
			w.Write(b)
			w.WriteByte(':')
			w.Write(c)
		}
		w.WriteString("}\n")
	}
	return nil
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return 0
}
