// Package state is the destination's memory of what it told Braze: per user, the user key, a short
// hash of each attribute's encoded value as last accepted by Braze, and whether the export flag is
// set. The writer diffs every row against it, so an unchanged user costs Braze nothing, and commits
// to it only what Braze accepted, so a crashed or failed run is resumed by running it again.
//
// The state never holds attribute values or the API key: only user keys, attribute names, 8-byte
// hashes, times and counters (docs/state.md).
//
// Store is the interface the writer uses; Open returns the embedded backend (pebble, in state_dir).
// A second backend (the warehouse, issue 15) wraps the embedded one as its working copy: it brings
// it up to date at Open through Space.Import, and uploads at Close what Space.Scan enumerates since
// the version it started from.
package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Namespace is one independent set of user records. Records of one namespace never affect another:
// a new table, key kind or export label starts from nothing (its first run sends everything once).
type Namespace struct {
	// Destination is the destination's name in the sync spec ("braze" under the CloudQuery CLI).
	Destination string `json:"destination"`
	// Endpoint is the Braze REST host (e.g. rest.iad-01.braze.com): another instance is another
	// workspace, whose users were told nothing.
	Endpoint string `json:"endpoint"`
	// Table is the source table (cq:table_name).
	Table string `json:"table"`
	// KeyKind is the Braze identifier the user key is: external_id, email, phone, braze_id, user_alias.
	KeyKind string `json:"key_kind"`
	// ExportAttribute and ExportValue are the export flag, {"<attribute>": {"add": ["<value>"]}};
	// ExportAttribute is empty when the flag is off.
	ExportAttribute string `json:"export_attribute,omitempty"`
	ExportValue     string `json:"export_value,omitempty"`
}

// String names the namespace in messages: destination/table (key kind, flag).
func (ns Namespace) String() string {
	s := ns.Destination + "/" + ns.Table + " (" + ns.KeyKind
	if ns.ExportAttribute != "" {
		s += ", " + ns.ExportAttribute + "=" + ns.ExportValue
	}
	return s + ")"
}

// HashSize is the length of a Hash in bytes.
const HashSize = 8

// Hash identifies one attribute value: the first 8 bytes of the SHA-256 digest of the value's JSON
// encoding exactly as sent to Braze (HashValue). In Snowflake it is
// SUBSTR(SHA2_BINARY(<json text>, 256), 1, 8), a BINARY(8).
type Hash [HashSize]byte

// HashValue returns the Hash of one attribute's encoded JSON value: the bytes after the member's
// colon, for example `"gold"`, `42`, `true`, `null`, `["a","b"]` or `{"$time":"2024-05-01T00:00:00.000Z"}`.
// This is the only definition of the hash; every backend and every pushdown computes exactly this.
func HashValue(encoded []byte) Hash {
	sum := sha256.Sum256(encoded)
	var h Hash
	copy(h[:], sum[:HashSize])
	return h
}

// String is the hash in lower-case hex (16 characters).
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Attr is what Braze was last told about one attribute of one user.
type Attr struct {
	// Name is the Braze attribute name.
	Name string
	// Hash is HashValue of the value Braze accepted.
	Hash Hash
	// SentAt is when Braze accepted it, in Unix seconds (refresh_after re-sends old ones).
	SentAt int64
}

// Record is what Braze was last told about one user of a namespace.
type Record struct {
	// Key is the user key as sent (the alias name for user_alias keys).
	Key []byte
	// Attrs holds one entry per attribute ever accepted, sorted by Name.
	Attrs []Attr
	// Flagged is whether the export value was accepted into the export attribute; FlaggedAt when
	// (Unix seconds; 0 when not flagged).
	Flagged   bool
	FlaggedAt int64
	// Version is the store version of the commit that last changed the record (see Store.Version).
	Version uint64
}

// Attr returns the entry for name, or nil.
func (r *Record) Attr(name string) *Attr {
	for i := range r.Attrs {
		if r.Attrs[i].Name == name {
			return &r.Attrs[i]
		}
	}
	return nil
}

// Flag says what a commit does to a user's export flag.
type Flag int8

// Flag changes.
const (
	FlagKeep  Flag = iota // leave it as recorded
	FlagSet               // Braze accepted {"add": [value]}
	FlagClear             // Braze accepted {"remove": [value]} (mirror mode)
)

// Update is what Braze accepted for one user in one request: the attributes it was sent (each with
// its new hash) and the flag change. Attributes not listed keep their record.
type Update struct {
	Key    []byte
	Attrs  []Attr
	Flag   Flag
	SentAt int64 // Unix seconds, for the flag (each Attr carries its own)
	// New is the caller's word that the user has no record: its lookup found none and it
	// committed none for the user since. The store may then skip reading the record it would
	// merge into (a first sync's commits cost no read); a wrong New loses the record's other
	// attributes and flag, so set it only when that lookup is certain.
	New bool
}

// Store is the state of one state folder: every namespace's records. Its methods are safe for
// concurrent use.
type Store interface {
	// Space opens the records of one namespace for this run, creating the namespace if needed.
	Space(ctx context.Context, ns Namespace) (Space, error)
	// Version is the store's version: it grows with every commit, and each record carries the
	// version that last changed it. A run's commits are the records above the version at its start.
	Version() uint64
	// Namespaces describes every namespace, in name order.
	Namespaces(ctx context.Context) ([]Info, error)
	// Reset forgets every record of the namespaces match selects, so their next run sends
	// everything. It returns the namespaces reset.
	Reset(ctx context.Context, match func(Namespace) bool) ([]Namespace, error)
	// Close makes everything committed durable and releases the folder for the next run.
	Close() error
}

// Space is the records of one namespace during one run. Lookup marks a user as seen in this run;
// Scan reports it, so mirror mode can find the flagged users this run did not see.
type Space interface {
	// Namespace is the namespace this space holds.
	Namespace() Namespace
	// Lookup fills rec with the user's record and reports whether there is one. rec's slices are
	// reused; they and the Attr names stay valid until the next Lookup with the same rec.
	Lookup(key []byte, rec *Record) (bool, error)
	// Commit merges the updates into the records, durably: when it returns nil, a crash of the
	// machine loses none of them. Updates of one call are applied in order.
	Commit(ctx context.Context, updates []Update) error
	// Scan calls fn for every record whose Version is above since (0: every record), in key order,
	// with whether Lookup or Commit saw its user in this run. rec is reused between calls.
	Scan(ctx context.Context, since uint64, fn func(rec *Record, seen bool) error) error
	// Import writes whole records as given (a warehouse copy bringing the local one up to date);
	// each gets a new local version. A record with no Attrs and not Flagged is deleted.
	Import(ctx context.Context, recs []Record) error
	// View opens a consistent read of the namespace as it is now, for many lookups in a row: each
	// costs less than Lookup's, but commits made after View returned may be invisible to it.
	View() (View, error)
	// Info describes the namespace now.
	Info(ctx context.Context) (Info, error)
}

// View is a read of one namespace as of one store version (Space.View). Its lookups mark users
// seen, as Space.Lookup does. It is not safe for concurrent use; Close releases it.
type View interface {
	// Lookup is Space.Lookup as of the view.
	Lookup(key []byte, rec *Record) (bool, error)
	// Version is the store version the view reads: every commit up to it is visible.
	Version() uint64
	Close() error
}

// Info describes one namespace.
type Info struct {
	Namespace Namespace `json:"namespace"`
	// Users is the number of users recorded, Flagged those with the export flag set.
	Users   int64 `json:"users"`
	Flagged int64 `json:"flagged"`
	// Attributes are the attribute names ever recorded, sorted.
	Attributes []string `json:"attributes"`
	// LastRun is the run that last committed to the namespace, LastCommit when (Unix seconds).
	LastRun    string `json:"last_run,omitempty"`
	LastCommit int64  `json:"last_commit,omitempty"`
	// DiskBytes estimates the bytes the namespace takes on disk.
	DiskBytes uint64 `json:"disk_bytes"`
}

// Errors an Open can return, with errors.Is. Their messages say what to do.
var (
	// ErrLocked: another run holds the folder (the error is a *LockedError naming it).
	ErrLocked = errors.New("state folder in use")
	// ErrCorrupt: the folder is damaged or is not a state folder.
	ErrCorrupt = errors.New("state folder is damaged")
	// ErrNewerFormat: a newer brazesync wrote the folder.
	ErrNewerFormat = errors.New("state folder has a newer format")
	// ErrNoState: a read-only Open found no state folder (no run has used it yet).
	ErrNoState = errors.New("no state folder")
)
