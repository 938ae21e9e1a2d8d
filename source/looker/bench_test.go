package looker_test

import (
	"context"
	"testing"

	"github.com/cloudquery/plugin-sdk/v4/plugin"

	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/source/looker"
)

// BenchmarkSyncScenarioLook measures the source end to end (emulator HTTP,
// streaming decode, Arrow conversion) per 100,000-row Look.
func BenchmarkSyncScenarioLook(b *testing.B) {
	const rows = 100_000
	emu, err := lookeremu.New(lookeremu.Seed(rows))
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	spec := specFor(emu, looker.TableSpec{Name: "s", LookID: lookeremu.LookScenario})
	for b.Loop() {
		p := looker.NewPlugin()
		if err := p.Init(context.Background(), spec, plugin.NewClientOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
