package brazeemu

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// FaultKind names what a scripted fault does to a request.
type FaultKind string

// Fault kinds. "Nothing applied" means the store is unchanged, so a client that retries
// is right to; "applied" means the writes happened although the client cannot tell.
const (
	// FaultStatus answers Status (default 500; use 500/502/503/504) with
	// {"message": ...}. Nothing applied.
	FaultStatus FaultKind = "status"
	// FaultRateLimit answers 429 with X-RateLimit-Remaining: 0 and X-RateLimit-Reset at
	// the end of the key's current window (or now+RateWindow). Nothing applied.
	FaultRateLimit FaultKind = "rate_limit"
	// FaultDelay sleeps Delay (or until the client gives up) before handling the
	// request; it combines with a terminal fault listed after it.
	FaultDelay FaultKind = "delay"
	// FaultResetBefore reads the body, then closes the TCP connection with a reset and
	// no response. Nothing applied.
	FaultResetBefore FaultKind = "reset_before"
	// FaultResetAfter applies the request, then closes the connection with a reset and
	// no response: the client cannot know the writes happened.
	FaultResetAfter FaultKind = "reset_after"
	// FaultTruncate applies the request, then sends the status line, headers with the
	// full Content-Length and only half the body, and closes the connection.
	FaultTruncate FaultKind = "truncate"
	// FaultMinorErrors answers 201 but rejects the objects at Indexes of InputArray
	// with a non-fatal errors[] item of type Message; those objects are not applied.
	// If every object ends up rejected the answer is the fatal 400, as for real
	// invalid objects.
	FaultMinorErrors FaultKind = "minor_errors"
)

// Fault is one scripted failure. Each fault counts the requests it matches (by Path)
// and fires on the n-th matching request when n > After, (n-After-1) % Every == 0, it
// has fired fewer than Count times (0 = unlimited), and, if Probability > 0, a draw
// from its own generator seeded with Seed falls below Probability. So
// {Kind: FaultStatus, Status: 503, Count: 2} fails the next two requests, and
// {Kind: FaultResetAfter, Every: 10, After: 4} resets requests 5, 15, 25, ...
// Probabilistic faults are deterministic for a given Seed and request order.
//
// Several faults may match a request: every FaultDelay that fires adds its delay, and
// the first other fault (in SetFaults order) that fires decides the outcome; later
// ones are not counted as fired for that request.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// Status is the HTTP status for FaultStatus (default 500).
	Status int `json:"status,omitempty"`
	// Delay is the sleep for FaultDelay. In JSON it is a Go duration string ("250ms").
	Delay time.Duration `json:"-"`
	// Path limits the fault to one endpoint: "" means /users/track, "*" every API path.
	Path        string  `json:"path,omitempty"`
	After       int     `json:"after,omitempty"`
	Count       int     `json:"count,omitempty"`
	Every       int     `json:"every,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Seed        int64   `json:"seed,omitempty"`
	// InputArray ("attributes" by default, "events", "purchases") and Indexes (default
	// [0]) choose the objects FaultMinorErrors rejects.
	InputArray string `json:"input_array,omitempty"`
	Indexes    []int  `json:"indexes,omitempty"`
	// Message is the errors[] type for FaultMinorErrors or the message of FaultStatus.
	Message string `json:"message,omitempty"`
	// Fired is how many times the fault fired (read back with Faults; ignored on set).
	Fired int `json:"fired"`
}

type faultJSON struct {
	faultAlias
	Delay string `json:"delay,omitempty"`
}

type faultAlias Fault

// MarshalJSON writes Delay as a Go duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{faultAlias: faultAlias(f)}
	if f.Delay > 0 {
		j.Delay = f.Delay.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads Delay as a Go duration string ("250ms", "2s").
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("decoding fault: %w", err)
	}
	*f = Fault(j.faultAlias)
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return fmt.Errorf("decoding fault delay: %w", err)
		}
		f.Delay = d
	}
	return f.validate()
}

func (f *Fault) validate() error {
	switch f.Kind {
	case FaultStatus, FaultRateLimit, FaultDelay, FaultResetBefore, FaultResetAfter, FaultTruncate, FaultMinorErrors,
		FaultStatusAfter, FaultHangAfter:
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return fmt.Errorf("fault probability %v outside [0,1]", f.Probability)
	}
	switch f.InputArray {
	case "", arrAttributes, arrEvents, arrPurchases:
	default:
		return fmt.Errorf("unknown fault input_array %q", f.InputArray)
	}
	return nil
}

type faultSet struct {
	mu     sync.Mutex
	faults []Fault
	seen   []int
	rngs   []*rand.Rand
}

func (s *faultSet) set(fs []Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = make([]Fault, len(fs))
	s.seen = make([]int, len(fs))
	s.rngs = make([]*rand.Rand, len(fs))
	for i, f := range fs {
		f.Fired = 0
		s.faults[i] = f
		s.rngs[i] = rand.New(rand.NewPCG(uint64(f.Seed), 0x9e3779b97f4a7c15))
	}
}

func (s *faultSet) list() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		f.Indexes = append([]int(nil), f.Indexes...)
		out[i] = f
	}
	return out
}

// pick decides the faults for one request to path: the summed delay and the terminal
// fault (nil if none fires).
func (s *faultSet) pick(path string) (delay time.Duration, terminal *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if !faultMatchesPath(f.Path, path) {
			continue
		}
		if f.Kind != FaultDelay && terminal != nil {
			continue
		}
		s.seen[i]++
		if !s.fires(i) {
			continue
		}
		f.Fired++
		if f.Kind == FaultDelay {
			delay += f.Delay
			continue
		}
		c := *f
		terminal = &c
	}
	return delay, terminal
}

func (s *faultSet) fires(i int) bool {
	f := &s.faults[i]
	n := s.seen[i]
	if n <= f.After {
		return false
	}
	if f.Every > 1 && (n-f.After-1)%f.Every != 0 {
		return false
	}
	if f.Count > 0 && f.Fired >= f.Count {
		return false
	}
	if f.Probability > 0 && s.rngs[i].Float64() >= f.Probability {
		return false
	}
	return true
}

func faultMatchesPath(faultPath, path string) bool {
	switch faultPath {
	case "*":
		return true
	case "":
		return path == pathTrack
	default:
		return faultPath == path
	}
}
