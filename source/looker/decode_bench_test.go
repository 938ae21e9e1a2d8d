package looker

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

// benchDetail is a json_detail body of rows rows with typed fields shaped
// like Looker's: string id and name, date, datetime, yesno, number and count,
// every cell with "value" plus some with "rendered" and "links".
func benchDetail(rows int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":"q1","fields":{"dimensions":[` +
		`{"name":"users.external_id","type":"string","tags":["braze_id"]},` +
		`{"name":"users.first_name","type":"string","tags":["braze[first_name]"]},` +
		`{"name":"users.signup_date","type":"date_date","tags":["braze[signup]"]},` +
		`{"name":"users.last_seen_time","type":"date_time","tags":["braze[last_seen]"]},` +
		`{"name":"users.is_vip","type":"yesno","tags":["braze[vip]"]},` +
		`{"name":"users.lifetime_value","type":"number","tags":["braze[ltv]"]}],` +
		`"measures":[{"name":"sessions.count","type":"count","tags":["braze[sessions]"]}],` +
		`"table_calculations":[],"pivots":[]},"timezone":"America/New_York","data":[`)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		vip := "No"
		if i%3 == 0 {
			vip = "Yes"
		}
		fmt.Fprintf(&b, `{"users.external_id":{"value":"u_%07d"},`+
			`"users.first_name":{"value":"Name %d","rendered":"Name %d","links":[{"label":"Filter","url":"/x?f=%d"}]},`+
			`"users.signup_date":{"value":"2021-%02d-%02d"},`+
			`"users.last_seen_time":{"value":"2024-03-%02d %02d:%02d:%02d"},`+
			`"users.is_vip":{"value":%q},"users.lifetime_value":{"value":%d.%02d,"rendered":"$%d.%02d"},`+
			`"sessions.count":{"value":%d}}`+"\n",
			i, i, i, i, 1+i%12, 1+i%28, 1+i%28, i%24, i%60, (i*7)%60, vip, i%1000, i%100, i%1000, i%100, i%500)
	}
	b.WriteString(`],"drill_menu_build_time":1}`)
	return b.Bytes()
}

// BenchmarkDecodeJSONDetail measures the looker source's CPU hot path on a
// 100,000-row typed body: decode only, and decode plus Arrow conversion.
func BenchmarkDecodeJSONDetail(b *testing.B) {
	const rows = 100_000
	body := benchDetail(rows)
	run := func(b *testing.B, records bool) {
		b.SetBytes(int64(len(body)))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu := processCPU()
		for b.Loop() {
			var w *RecordWriter
			err := DecodeJSONDetail(bytes.NewReader(body), Handler{
				OnHeader: func(h *Header) error {
					if !records {
						return nil
					}
					cols, err := Columns(h)
					if err != nil {
						return err
					}
					loc, err := Location(h)
					if err != nil {
						return err
					}
					w = NewRecordWriter(cols, ArrowSchema(cols, nil), loc, 0, func(r arrow.Record) error { r.Release(); return nil })
					return nil
				},
				OnRow: func(r Row) error {
					if w == nil {
						return nil
					}
					return w.Append(r)
				},
			})
			if err == nil && w != nil {
				err = w.Flush()
				w.Release()
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		cpu = processCPU() - cpu
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows*b.N), "cpu-ns/row")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows*b.N), "allocs/row")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(rows*b.N), "B/row")
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows*b.N), "ns/row")
	}
	b.Run("decode", func(b *testing.B) { run(b, false) })
	b.Run("records", func(b *testing.B) { run(b, true) })
}
