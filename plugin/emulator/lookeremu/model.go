// Package lookeremu emulates the parts of a Looker instance brazesync talks
// to: API 4.0 login, saved Looks and inline queries returning json_detail
// (tags, pivots, table calculations) over seeded data, one-time download
// URLs, and a Looker-side driver that calls an action hub the way Looker does.
package lookeremu

import (
	"fmt"
	"sort"
	"strings"
)

// Values holds one seeded row: field name → Go value (string, number, bool
// or nil). Dates and times are strings, as Looker sends them unformatted.
type Values map[string]any

// Field describes one LookML field of a view.
type Field struct {
	Name  string   // view.field, e.g. users.external_id
	Label string   // human label
	Type  string   // LookML type: string, number, count, yesno, date_date, date_time, …
	Tags  []string // LookML tags, e.g. braze_id, braze[first_name]
	// Measure marks aggregates; measures are summed across grouped rows when
	// a query pivots.
	Measure bool
}

// View is a seeded explore: fields plus a row generator, so results of any
// size stream without being held in memory.
type View struct {
	Model  string
	Name   string
	Fields []Field
	Rows   int
	Row    func(i int) Values
}

func (v *View) field(name string) (Field, bool) {
	for _, f := range v.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// TableCalc is a table calculation (Looker's dynamic_fields), computed from
// the other values of its row.
type TableCalc struct {
	Name      string
	Label     string
	Tags      []string
	IsNumeric bool
	Calc      func(Values) any
}

// Query is a Looker query. Limit "" means Looker's default of 5000 rows and
// "-1" means all rows. Filters match a field's value exactly (comma = any
// of). Sorts are accepted and ignored: rows come in generator order.
type Query struct {
	Model      string            `json:"model"`
	View       string            `json:"view"`
	Fields     []string          `json:"fields"`
	Pivots     []string          `json:"pivots,omitempty"`
	Filters    map[string]string `json:"filters,omitempty"`
	Sorts      []string          `json:"sorts,omitempty"`
	Limit      string            `json:"limit,omitempty"`
	TableCalcs []TableCalc       `json:"-"`
}

// Look is a saved Look.
type Look struct {
	ID    int
	Title string
	Query Query
}

// defaultLimit is the row limit Looker applies when none is set.
const defaultLimit = 5000

func (q Query) rowLimit() (int, error) {
	switch q.Limit {
	case "":
		return defaultLimit, nil
	case "-1":
		return -1, nil
	}
	var n int
	if _, err := fmt.Sscan(q.Limit, &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid limit %q", q.Limit)
	}
	return n, nil
}

func (q Query) matches(vals Values) bool {
	for name, want := range q.Filters {
		got := fmt.Sprint(vals[name])
		ok := false
		for _, w := range strings.Split(want, ",") {
			if strings.TrimSpace(w) == got {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// resolved is a query checked against its view.
type resolved struct {
	q          Query
	view       *View
	dims       []Field // selected, non-pivot dimensions
	measures   []Field
	pivotField *Field
}

func (s *Server) resolve(q Query) (*resolved, error) {
	v := s.view(q.Model, q.View)
	if v == nil {
		return nil, fmt.Errorf("unknown model/view %s/%s", q.Model, q.View)
	}
	r := &resolved{q: q, view: v}
	if len(q.Pivots) > 1 {
		return nil, fmt.Errorf("the emulator pivots on one field at most")
	}
	if len(q.Pivots) > 0 && len(q.TableCalcs) > 0 {
		return nil, fmt.Errorf("the emulator does not combine pivots and table calculations")
	}
	for _, p := range q.Pivots {
		f, ok := v.field(p)
		if !ok || f.Measure {
			return nil, fmt.Errorf("cannot pivot on %q", p)
		}
		r.pivotField = &f
	}
	for _, name := range q.Fields {
		f, ok := v.field(name)
		if !ok {
			return nil, fmt.Errorf("unknown field %q", name)
		}
		switch {
		case r.pivotField != nil && f.Name == r.pivotField.Name:
		case f.Measure:
			r.measures = append(r.measures, f)
		default:
			r.dims = append(r.dims, f)
		}
	}
	for name := range q.Filters {
		if _, ok := v.field(name); !ok {
			return nil, fmt.Errorf("unknown filter field %q", name)
		}
	}
	if _, err := q.rowLimit(); err != nil {
		return nil, err
	}
	return r, nil
}

// pivotValues scans the view for the distinct values of the pivot field.
func (r *resolved) pivotValues() []string {
	set := map[string]bool{}
	for i := 0; i < r.view.Rows; i++ {
		vals := r.view.Row(i)
		if r.q.matches(vals) {
			set[fmt.Sprint(vals[r.pivotField.Name])] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (r *resolved) pivotKey(value string) string {
	return r.pivotField.Name + "=" + value
}
