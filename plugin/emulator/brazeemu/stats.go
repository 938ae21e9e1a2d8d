package brazeemu

import (
	"maps"
	"sync"
)

// Stats are counters over the emulator's lifetime (or since Reset). Control endpoints
// under /_emulator/ are not counted.
type Stats struct {
	// Requests counts every API request, whatever its outcome.
	Requests int64 `json:"requests"`
	// ObjectsReceived counts attributes+events+purchases objects in /users/track bodies
	// that were parsed (including rejected and over-cap requests).
	ObjectsReceived int64 `json:"objects_received"`
	// Status counts responses by HTTP status (connection faults count as status 0).
	Status map[int]int `json:"status"`
	// RateLimited counts 429 responses (real and injected).
	RateLimited int64 `json:"rate_limited"`
	// DataPoints counts billable writes (docs/braze-api.md §7): every attribute write, changed
	// or not, except the non-billable fields listed in nonBillable; each event and
	// purchase and each of their properties.
	DataPoints int64 `json:"data_points"`
	// AttributesProcessed, Events and Purchases count valid objects accepted (the
	// *_processed values summed over responses).
	AttributesProcessed int64 `json:"attributes_processed"`
	Events              int64 `json:"events"`
	Purchases           int64 `json:"purchases"`
	// MinorErrors counts errors[] items returned (non-fatal and in fatal bodies).
	MinorErrors int64 `json:"minor_errors"`
	// BytesReceived counts request body bytes read.
	BytesReceived int64 `json:"bytes_received"`
	// ObjectsSkipped counts valid objects that changed nothing because their user does
	// not exist and may not be created (_update_existing_only, unknown braze_id).
	ObjectsSkipped int64 `json:"objects_skipped"`
	// ProfilesCreated counts profiles created by /users/track.
	ProfilesCreated int64 `json:"profiles_created"`
	// ValuesRejected counts single attribute values that were not stored although their
	// object was accepted: strings over 255 characters, invalid attribute names, inc on
	// a non-integer, nested objects dropped by an invalid nested value in the request.
	ValuesRejected int64 `json:"values_rejected"`
	// FaultsInjected counts requests answered by a scripted fault.
	FaultsInjected int64 `json:"faults_injected"`
	// Exports counts successful /users/export/ids requests.
	Exports int64 `json:"exports"`
}

type statsCounter struct {
	mu sync.Mutex
	s  Stats
}

func newStatsCounter() *statsCounter {
	return &statsCounter{s: Stats{Status: map[int]int{}}}
}

func (c *statsCounter) update(f func(s *Stats)) {
	c.mu.Lock()
	f(&c.s)
	c.mu.Unlock()
}

func (c *statsCounter) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Status = maps.Clone(c.s.Status)
	return s
}

func (c *statsCounter) reset() {
	c.mu.Lock()
	c.s = Stats{Status: map[int]int{}}
	c.mu.Unlock()
}
