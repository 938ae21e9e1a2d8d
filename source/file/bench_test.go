package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
)

// BenchmarkCSVTwoPasses reads a 200,000-row CSV (key, integer, float, text, date) through the
// plugin: the typing pass over the whole file, then the records. Reports rows/s.
func BenchmarkCSVTwoPasses(b *testing.B) {
	const rows = 200_000
	var sb strings.Builder
	sb.WriteString("external_id,braze[n],braze[ltv],braze[name],braze[since]\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&sb, "user_%d,%d,%d.%02d,name %d,2024-%02d-%02d\n", i, i, i%1000, i%100, i, i%12+1, i%28+1)
	}
	path := filepath.Join(b.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	spec := []byte(fmt.Sprintf(`{"files":[{"path":%q}]}`, path))
	b.ResetTimer()
	for b.Loop() {
		p := NewPlugin()
		if err := p.Init(context.Background(), spec, plugin.NewClientOptions{}); err != nil {
			b.Fatal(err)
		}
		res := make(chan message.SyncMessage, 16)
		done := make(chan int64)
		go func() {
			var n int64
			for m := range res {
				if ins, ok := m.(*message.SyncInsert); ok {
					n += ins.Record.NumRows()
					ins.Record.Release()
				}
			}
			done <- n
		}()
		err := p.Sync(context.Background(), plugin.SyncOptions{Tables: []string{"*"}}, res)
		close(res)
		if n := <-done; err != nil || n != rows {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
