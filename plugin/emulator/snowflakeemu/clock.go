package snowflakeemu

import (
	"sync"
	"time"
)

// clock is the emulator's idea of the current time, which CURRENT_TIMESTAMP, DATEADD over it and
// every lock-expiry comparison read. It stands still at Options.Now unless Options.TickingClock
// is set; tests move it with Advance, so an expiry is reached without waiting for it.
type clock struct {
	mu      sync.Mutex
	base    time.Time
	started time.Time
	offset  time.Duration
	ticking bool
}

func newClock(base time.Time, ticking bool) *clock {
	return &clock{base: base, started: time.Now(), ticking: ticking}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.base.Add(c.offset)
	if c.ticking {
		t = t.Add(time.Since(c.started))
	}
	return t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Now is the emulator's current time (see Options.TickingClock).
func (e *Emulator) Now() time.Time { return e.clock.now() }

// Advance moves the emulator's clock forward by d, as if that much time had passed: locks whose
// expiry falls in between are expired from the next statement on.
func (e *Emulator) Advance(d time.Duration) { e.clock.advance(d) }
