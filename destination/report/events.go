package report

import (
	"fmt"
	"strings"
)

// eventSummary writes the event and purchase lines of Summary, when the run had any.
func (r *Report) eventSummary(b *strings.Builder) {
	if r.EventsSent == 0 && r.PurchasesSent == 0 && r.AmbiguousRequests == 0 {
		return
	}
	fmt.Fprintf(b, "  events sent:    %d, purchases sent: %d\n", r.EventsSent, r.PurchasesSent)
	if r.AmbiguousRequests > 0 {
		fmt.Fprintf(b, "  ambiguous:      %d requests, %d rows (answer lost or 5xx: Braze may have recorded them)\n",
			r.AmbiguousRequests, r.AmbiguousRows)
	}
}

// mergeEvents adds o's event counts into r.
func (r *Report) mergeEvents(o *Report) {
	r.EventsSent += o.EventsSent
	r.PurchasesSent += o.PurchasesSent
	r.AmbiguousRequests += o.AmbiguousRequests
	r.AmbiguousRows += o.AmbiguousRows
}
