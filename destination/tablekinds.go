package destination

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/schema"
)

// Policies for a request holding events or purchases whose outcome is unknown (on_ambiguous_failure).
const (
	// AmbiguousDeadLetter: at most once. The rows go to the dead-letter file as
	// braze_may_have_recorded, with their objects, and are not sent again. The default.
	AmbiguousDeadLetter = "dead_letter"
	// AmbiguousRetry: at least once. The request is sent again, as attribute requests are.
	AmbiguousRetry = "retry"
)

const (
	// defaultEventWindow is how long an event's identity is kept past the event's time.
	defaultEventWindow = 30 * 24 * time.Hour
	// minEventWindow keeps a typo ("30s") from refusing nearly every event as too old.
	minEventWindow = time.Hour
)

// TableKinds is the part of the spec that sends tables as events or purchases (docs/events.md).
// The mapping of each table is schema.EventConfig's; what is decided here is what no row can say:
// the policy for unknown outcomes, and how long identities are remembered.
type TableKinds struct {
	// Per table (its CloudQuery name: a Snowflake query's name, a Looker table's name, a file's table): what its rows become and from which columns: kind (attributes, events, purchases), key_column, name or name_column, time_column, id_column, app_id or app_id_column, properties, properties_column, product_id_column, currency or currency_column, price_column, quantity_column; see [events.md](events.md). Tables not listed are attributes, unless their columns carry event or purchase tags.
	Tables map[string]schema.EventConfig `json:"tables,omitempty"`
	// For requests holding events or purchases whose answer never came back (a timeout or reset after the request was sent, or a 5xx): dead_letter (at most once: the rows go to the dead-letter file marked as possibly recorded) or retry (at least once: sent again, which may record them twice).
	OnAmbiguousFailure string `json:"on_ambiguous_failure,omitempty" jsonschema:"enum=dead_letter,enum=retry"`
	// How long past an event's time its identity is remembered, as a Go duration (at least 1h). Older events are not sent (reason event_outside_window): whether they were sent before can no longer be told.
	EventWindow string `json:"event_window,omitempty"`
}

func (k *TableKinds) setDefaults() {
	if k.OnAmbiguousFailure == "" {
		k.OnAmbiguousFailure = AmbiguousDeadLetter
	}
	if k.EventWindow == "" {
		k.EventWindow = defaultEventWindow.String()
	}
}

// validate checks every table's settings (naming tables.<table>.<field>), the policy and the window.
func (k *TableKinds) validate() error {
	var errs []error
	names := make([]string, 0, len(k.Tables))
	for name := range k.Tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "" {
			errs = append(errs, errors.New("tables: empty table name"))
			continue
		}
		cfg := k.Tables[name]
		if err := cfg.Validate(); err != nil {
			errs = append(errs, prefixErrors("tables."+name+".", err))
		}
	}
	switch k.OnAmbiguousFailure {
	case AmbiguousDeadLetter, AmbiguousRetry:
	default:
		errs = append(errs, fmt.Errorf("on_ambiguous_failure: %q is not one of dead_letter, retry", k.OnAmbiguousFailure))
	}
	if d, err := time.ParseDuration(k.EventWindow); err != nil || d < minEventWindow {
		errs = append(errs, fmt.Errorf("event_window: %q is not a duration of at least 1h, such as 720h", k.EventWindow))
	}
	return errors.Join(errs...)
}

// prefixErrors prefixes each joined error's message (schema names the field, this adds the table).
func prefixErrors(prefix string, err error) error {
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return fmt.Errorf("%s%w", prefix, err)
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, prefixErrors(prefix, e))
	}
	return errors.Join(out...)
}

// tableConfig is the settings of a table (the zero value for tables not listed).
func (k *TableKinds) tableConfig(table string) schema.EventConfig { return k.Tables[table] }

// eventWindow is the parsed event_window (validated).
func (k *TableKinds) eventWindow() time.Duration {
	d, _ := time.ParseDuration(k.EventWindow)
	return d
}

// ambiguousPolicy is on_ambiguous_failure for the Braze client.
func (k *TableKinds) ambiguousPolicy() brazeapi.AmbiguousPolicy {
	if k.OnAmbiguousFailure == AmbiguousRetry {
		return brazeapi.AmbiguousRetry
	}
	return brazeapi.AmbiguousDeadLetter
}

// The event window, defined once. An identity is remembered until its event's time plus the window
// (identityExpiry); an event older than the run's start minus the window is refused
// (outsideWindow). So every identity that could still be needed is still held: an event the store
// may have forgotten is never sent blind.

// outsideWindow reports an event whose identity the state may have forgotten.
func (k *TableKinds) outsideWindow(eventMillis int64, runStart time.Time) bool {
	return eventMillis < runStart.Add(-k.eventWindow()).UnixMilli()
}

// identityExpiry is when the state may forget an identity, in Unix seconds, rounded up so that no
// run that would still accept the event finds its identity gone.
func (k *TableKinds) identityExpiry(eventMillis int64) int64 {
	ms := eventMillis + k.eventWindow().Milliseconds()
	return (ms + 999) / 1000
}
