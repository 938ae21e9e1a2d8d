package brazeapi

import (
	"net/http"
	"strconv"
	"time"
)

// rateHeaders are the X-RateLimit-* headers of one answer (docs/braze-api.md §1.6). A header that is
// missing or not a number is marked absent.
type rateHeaders struct {
	limit, remaining       int
	reset                  int64 // UTC epoch seconds
	hasLimit, hasRemaining bool
	hasReset               bool
}

func readRateHeaders(h http.Header) rateHeaders {
	return parseRateHeaders(h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"))
}

func parseRateHeaders(limit, remaining, reset string) rateHeaders {
	var h rateHeaders
	if n, err := strconv.Atoi(limit); err == nil && n > 0 {
		h.limit, h.hasLimit = n, true
	}
	if n, err := strconv.Atoi(remaining); err == nil && n >= 0 {
		h.remaining, h.hasRemaining = n, true
	}
	if n, err := strconv.ParseInt(reset, 10, 64); err == nil {
		h.reset, h.hasReset = n, true
	}
	return h
}

// ticket identifies one request the limiter let through: its number among this limiter's requests
// and when it went out. Its answer's headers are matched back to it.
type ticket struct {
	seq uint64
	at  time.Time
}

// keyWindow is what one limiter knows of the server's current rate-limit window for the key, built
// only from the answers to its own requests.
//
// Times err late: the window opened at the latest when the first answer counted in it arrived, less
// the least time the requests counted before it can take, and ends one window length after that.
// Erring late costs a few idle milliseconds per window; erring early would send into a spent window
// and earn 429s.
type keyWindow struct {
	known    bool
	limit    int       // requests the key may make in it (the smaller of the header's and ours)
	start    time.Time // latest likely start
	end      time.Time // latest likely end
	used     int       // highest Limit-Remaining seen in it: the key's requests counted so far
	usedSeq  uint64    // our request whose answer showed used
	usedAt   time.Time // when that answer arrived
	firstSeq uint64    // our earliest request seen counted in it
	prevUsed int       // the window before's highest count, to tell its late answers apart
}

// placement is where an answer was counted relative to the window the limiter knows.
type placement int

const (
	sameWindow placement = iota
	newWindow
	oldWindow // a late answer from the window before: ignored
	stillOpen // the window outlasted its estimated end
)

// place decides which window counted a request, from when it was sent and the count it saw. Within a
// window the count only rises, so a request sent after an answer showing used, yet seeing no more,
// was counted in a later window; so was a request sent after the window's latest possible end, unless
// its count is too high to have built up since then (minSpan(n) is the least time n requests of the
// key take to arrive): then the end was estimated too early.
func (w *keyWindow) place(tk ticket, used, remaining int, now time.Time, minSpan func(int) time.Duration) placement {
	switch {
	case !w.known:
		return newWindow
	case !tk.at.Before(w.end):
		if (used > w.used || used == w.used && remaining == 0) && minSpan(used) > now.Sub(w.end) {
			return stillOpen
		}
		return newWindow
	case !tk.at.Before(w.usedAt) && (used < w.used || used == w.used && remaining > 0):
		return newWindow
	case tk.at.Before(w.start) && used > w.used && 2*used > w.used+w.prevUsed:
		// Sent before this window was seen and nearer the old window's count than this one's.
		return oldWindow
	default:
		return sameWindow
	}
}

// ours is how many of our requests were counted in the window up to the one that showed used.
func (w *keyWindow) ours() int {
	return int(w.usedSeq-w.firstSeq) + 1
}
