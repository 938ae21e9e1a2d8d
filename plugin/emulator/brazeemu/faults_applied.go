package brazeemu

import (
	"net/http"
	"time"
)

// Faults that break the answer of a request after it was applied, besides FaultResetAfter and
// FaultTruncate: the outcomes a client cannot tell from "nothing happened", which is what an
// event sender's ambiguous-failure policy is about.
const (
	// FaultStatusAfter applies the request, then answers Status (default 500) with {"message"}
	// instead of its real answer: a 5xx for writes that happened.
	FaultStatusAfter FaultKind = "status_after"
	// FaultHangAfter applies the request, then holds its answer for Delay before sending it (0:
	// until the client gives up, then a reset): a client whose timeout is shorter sees a timeout
	// for writes that happened; a longer one, a late answer.
	FaultHangAfter FaultKind = "hang_after"
)

// serveAppliedFault breaks the answer of an applied request for the faults above; it reports
// whether it answered.
func (e *Emulator) serveAppliedFault(w http.ResponseWriter, r *http.Request, f *Fault, code int, resp any) bool {
	switch f.Kind {
	case FaultStatusAfter:
		e.stats.update(func(s *Stats) { s.FaultsInjected++ })
		code := f.Status
		if code == 0 {
			code = http.StatusInternalServerError
		}
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(code)
		}
		e.reply(w, code, message(msg))
		return true
	case FaultHangAfter:
		e.stats.update(func(s *Stats) { s.FaultsInjected++ })
		var after <-chan time.Time
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			defer t.Stop()
			after = t.C
		}
		select {
		case <-r.Context().Done():
			e.stats.update(func(s *Stats) { s.Status[0]++ })
			abortConnection(w)
		case <-after:
			e.reply(w, code, resp)
		}
		return true
	}
	return false
}
