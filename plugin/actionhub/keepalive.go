package actionhub

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// keepAlive answers 200 with Content-Type application/json at once, then
// writes a newline every interval until the JSON answer is ready, as the
// stock hub does, so proxies and NATs keep the connection open during long
// runs. Looker ignores the leading newlines. A newline that cannot be
// written means Looker hung up: gone is called (it may be nil).
type keepAlive struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	gone func()
	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

func startKeepAlive(w http.ResponseWriter, interval time.Duration, gone func()) *keepAlive {
	k := &keepAlive{w: w, rc: http.NewResponseController(w), gone: gone, stop: make(chan struct{}), done: make(chan struct{})}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = k.rc.Flush()
	go k.loop(interval)
	return k
}

func (k *keepAlive) loop(interval time.Duration) {
	defer close(k.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
			k.mu.Lock()
			_, err := k.w.Write([]byte("\n"))
			if err == nil {
				err = k.rc.Flush()
			}
			k.mu.Unlock()
			if err != nil {
				if k.gone != nil {
					k.gone()
				}
				return
			}
		}
	}
}

// finish stops the newlines and writes the answer.
func (k *keepAlive) finish(v any) {
	close(k.stop)
	<-k.done
	b, _ := json.Marshal(v)
	_, _ = k.w.Write(append(b, '\n'))
	_ = k.rc.Flush()
}
