package runner

import "github.com/brazesync/brazesync/destination/report"

// notRead counts the rows the sources produced for destination name that it never read: when a
// destination fails or dies mid-run, the runner stops delivering, and the records it had received
// (or sent into a stream the plugin no longer read) would otherwise appear in no counter. With it,
// per destination, rows_read + rows_not_read = the rows of every source that feeds it.
func (r *run) notRead(name string, rep *report.Report) int64 {
	var offered int64
	for _, ss := range r.spec.Sources {
		for _, d := range ss.Destinations {
			if d == name {
				offered += r.rr.Sources[ss.Name]
			}
		}
	}
	return max(0, offered-rep.RowsRead)
}
