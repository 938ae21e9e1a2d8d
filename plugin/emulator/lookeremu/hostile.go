package lookeremu

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Hostile is a way a download_url can misbehave: what an attacker holding a hub's token, or a broken
// proxy in front of Looker, could answer. Each mode streams until the client goes away, so a hub's
// bounds, not the emulator, end it.
type Hostile int

// Hostile download modes.
const (
	// HostileWhitespace: a valid json_detail header and "data":[ then whitespace without end.
	HostileWhitespace Hostile = iota + 1
	// HostileString: a valid header, then a row whose key cell is a string without end.
	HostileString
	// HostileFields: a "fields" section whose dimensions list has no end.
	HostileFields
	// HostileHang: the request is accepted and never answered, not even with headers.
	HostileHang
	// HostileTrickle: a valid header, then one space every TrickleEvery, without end: never idle,
	// never done.
	HostileTrickle
)

// TrickleEvery is the pause between HostileTrickle's bytes.
const TrickleEvery = 20 * time.Millisecond

func (h Hostile) String() string {
	switch h {
	case HostileWhitespace:
		return "endless whitespace"
	case HostileString:
		return "endless string"
	case HostileFields:
		return "endless fields"
	case HostileHang:
		return "hanging download"
	case HostileTrickle:
		return "trickling download"
	}
	return fmt.Sprintf("hostile(%d)", int(h))
}

// HostileDownload is one registered hostile download_url and what it served.
type HostileDownload struct {
	URL  string
	Mode Hostile

	mu      sync.Mutex
	fetches int
	served  int64
	gone    chan struct{} // closed when a fetch ended because the client went away
}

// Fetches is how many times the URL was fetched.
func (d *HostileDownload) Fetches() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fetches
}

// Served is the number of body bytes written so far, over every fetch.
func (d *HostileDownload) Served() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.served
}

// Gone is closed once a fetch has ended because the client hung up: the download was cancelled.
func (d *HostileDownload) Gone() <-chan struct{} { return d.gone }

// HostileDownloadURL registers a download_url that misbehaves as mode says. Unlike a real one it
// may be fetched more than once; each fetch counts in Stats().Downloads.
func (s *Server) HostileDownloadURL(mode Hostile) *HostileDownload {
	id := randomHex(24)
	d := &HostileDownload{URL: s.URL() + "/downloads/" + id, Mode: mode, gone: make(chan struct{})}
	s.mu.Lock()
	if s.hostile == nil {
		s.hostile = map[string]*HostileDownload{}
	}
	s.hostile[id] = d
	s.mu.Unlock()
	return d
}

// hostileDownload returns the hostile download registered under id, counting the fetch.
func (s *Server) hostileDownload(id string) *HostileDownload {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.hostile[id]
	if d != nil {
		s.stats.Downloads++
	}
	return d
}

// hostileHeader is a json_detail document up to the first row: one braze_id dimension.
const hostileHeader = `{"fields":{"dimensions":[{"name":"users.external_id","type":"string","tags":["braze_id"]}],` +
	`"measures":[],"table_calculations":[],"pivots":[]},"data":[`

// chunk is what the endless modes repeat.
func (d *HostileDownload) chunk() (head string, body []byte) {
	switch d.Mode {
	case HostileWhitespace:
		return hostileHeader, bytes.Repeat([]byte(" \n\t"), 32<<10/3)
	case HostileString:
		return hostileHeader + `{"users.external_id":{"value":"`, bytes.Repeat([]byte("a"), 32<<10)
	case HostileFields:
		var b strings.Builder
		for i := 0; b.Len() < 32<<10; i++ {
			fmt.Fprintf(&b, `{"name":"users.f%d","type":"string","tags":[]},`, i)
		}
		return `{"fields":{"dimensions":[`, []byte(b.String())
	}
	return hostileHeader, []byte(" ")
}

func (d *HostileDownload) serve(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.fetches++
	d.mu.Unlock()
	defer d.hungUp() // every mode streams until the client goes away: no other way out
	if d.Mode == HostileHang {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	head, body := d.chunk()
	if !d.write(w, []byte(head)) {
		return
	}
	for {
		if d.Mode == HostileTrickle {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(TrickleEvery):
			}
		}
		if !d.write(w, body) {
			return
		}
	}
}

// write sends b and flushes it, reporting whether the client is still there.
func (d *HostileDownload) write(w http.ResponseWriter, b []byte) bool {
	n, err := w.Write(b)
	d.mu.Lock()
	d.served += int64(n)
	d.mu.Unlock()
	if err == nil {
		err = http.NewResponseController(w).Flush()
	}
	return err == nil
}

// hungUp closes Gone once.
func (d *HostileDownload) hungUp() {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.gone:
	default:
		close(d.gone)
	}
}
