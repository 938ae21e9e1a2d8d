// Package sampledata generates the sample users of the quickstart: a few thousand Braze users with a
// key column, typed attributes and Looker-style tags, written as Parquet (tags in field metadata) and
// CSV (braze[attr] headers). It is deterministic for a seed, so the files in docs/examples/data can
// be checked against it and tests can compute the expected Braze store from the same values.
package sampledata

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// User is one generated row. Empty ExternalID and bad Email are on purpose: the quickstart shows
// skipped and rejected rows in its report.
type User struct {
	ExternalID string
	FirstName  string
	LastName   string
	Email      string
	LTVCents   int64 // lifetime value, exact: written as decimal(12,2)
	ChurnRisk  float64
	IsVIP      bool
	SignupDate time.Time // a date (midnight UTC)
	LastSeenAt time.Time // a timestamp, microsecond precision, UTC
	Categories []string  // Parquet only: a list attribute
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Linus", "Margaret", "Dennis"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Torvalds", "Hamilton", "Ritchie"}
	categories = []string{"shoes", "books", "garden", "music", "travel", "games"}
)

// Special rows of every generated set, so the report shows each outcome.
const (
	EmptyKeyEvery   = 1000 // every 1000th user (index 999, 1999, …) has an empty external_id
	BadEmailEvery   = 1500 // every 1500th user (index 1499, …) has an invalid email
	DefaultUsers    = 5000
	DefaultSeed     = 42
	baseUnixSeconds = 1_700_000_000
)

// Users returns n users for a seed.
func Users(n int, seed uint64) []User {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]User, n)
	for i := range out {
		out[i] = user(i, rng)
	}
	return out
}

func user(i int, rng *rand.Rand) User {
	fn := firstNames[rng.IntN(len(firstNames))]
	ln := lastNames[rng.IntN(len(lastNames))]
	u := User{
		ExternalID: fmt.Sprintf("user-%05d", i),
		FirstName:  fn,
		LastName:   ln,
		Email:      fmt.Sprintf("%s.%s.%d@example.com", lower(fn), lower(ln), i),
		LTVCents:   rng.Int64N(500_000),
		ChurnRisk:  float64(rng.IntN(1000)) / 1000,
		IsVIP:      rng.IntN(10) == 0,
		SignupDate: time.Unix(baseUnixSeconds-int64(rng.IntN(1000))*86400, 0).UTC().Truncate(24 * time.Hour),
		LastSeenAt: time.UnixMicro(baseUnixSeconds*1_000_000 + rng.Int64N(90*86400*1_000_000)).UTC(),
		Categories: pick(rng),
	}
	if (i+1)%EmptyKeyEvery == 0 {
		u.ExternalID = ""
	}
	if (i+1)%BadEmailEvery == 0 {
		u.Email = "not-an-email"
	}
	return u
}

func pick(rng *rand.Rand) []string {
	n := 1 + rng.IntN(3)
	out := make([]string, 0, n)
	for _, j := range rng.Perm(len(categories))[:n] {
		out = append(out, categories[j])
	}
	return out
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
