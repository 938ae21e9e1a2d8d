package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
)

// Table kinds: what the rows of a table become (EventConfig.Kind, TableKind).
const (
	KindAttributes = "attributes" // attribute objects (the default)
	KindEvents     = "events"     // one custom event per row
	KindPurchases  = "purchases"  // one purchase per row
)

// Tags of event and purchase tables, in the style of TagKey and braze[attr]: exact, anchored and
// case-sensitive, carried in the field metadata (MetadataTags), so LookML tags work as they are. A
// column named exactly like a tag counts as tagged, at a lower precedence than the tag itself (as a
// column named braze[attr] does), so `SELECT … AS "braze_time"` works without configuration.
const (
	// TagEventName marks the column holding each row's event name; it makes the table an events table.
	TagEventName = "braze_event"
	// TagTime marks the timestamp (or date) column with each event's or purchase's time.
	TagTime = "braze_time"
	// TagEventID marks the column whose value identifies the row's event or purchase across runs.
	TagEventID = "braze_event_id"
	// TagAppID marks the column holding the app_id.
	TagAppID = "braze_app_id"
	// TagProperties marks a JSON object column whose members are properties.
	TagProperties = "braze_properties"
	// TagProductID marks the column holding the product_id; it makes the table a purchases table.
	TagProductID = "braze_product_id"
	// TagCurrency, TagPrice and TagQuantity mark the purchase's other columns.
	TagCurrency = "braze_currency"
	TagPrice    = "braze_price"
	TagQuantity = "braze_quantity"
)

// tagEventConstPrefix starts the tag braze_event[NAME], which names every event of the table NAME.
const tagEventConstPrefix = "braze_event["

// reservedProperties are property names Braze refuses with an API error (docs/braze-api.md §1.2).
var reservedProperties = map[string]bool{"time": true, "event_name": true}

// EventConfig says how the rows of one table become events or purchases: the destination spec's
// `tables.<table>` block. Every *_column names a column (exact, else a unique case-insensitive
// match); a role whose setting is empty is found by its tag, then by a column named like the tag
// (docs/events.md). Validate checks what can be checked without the table's columns.
type EventConfig struct {
	// What the table's rows become: attributes (the default, unless its columns carry event or purchase tags), events or purchases.
	Kind string `json:"kind,omitempty" jsonschema:"enum=attributes,enum=events,enum=purchases"`
	// The user key column of this table, instead of the spec's key_column.
	KeyColumn string `json:"key_column,omitempty"`
	// Events: the name of every event of the table (at most 255 characters).
	Name string `json:"name,omitempty"`
	// Events: the column holding each row's event name (instead of name).
	NameColumn string `json:"name_column,omitempty"`
	// Timestamp or date column with each row's time. A row whose time is null, and every row when the table has none, is sent with the sync's start time.
	TimeColumn string `json:"time_column,omitempty"`
	// Column whose value identifies the row's event across runs (an order line id, a Currents event id). Without one the identity is a hash of the user key, name, time and properties.
	IDColumn string `json:"id_column,omitempty"`
	// app_id sent with every event or purchase of the table.
	AppID string `json:"app_id,omitempty"`
	// Column holding each row's app_id (instead of app_id).
	AppIDColumn string `json:"app_id_column,omitempty"`
	// Properties from columns, COLUMN: property name. Unset: every column tagged or named braze[property].
	Properties map[string]string `json:"properties,omitempty"`
	// JSON object column (a Snowflake VARIANT or OBJECT) whose members are properties too.
	PropertiesColumn string `json:"properties_column,omitempty"`
	// Purchases: the column holding the product_id.
	ProductIDColumn string `json:"product_id_column,omitempty"`
	// Purchases: the ISO 4217 currency of every purchase of the table, e.g. USD.
	Currency string `json:"currency,omitempty"`
	// Purchases: the column holding each row's ISO 4217 currency (instead of currency).
	CurrencyColumn string `json:"currency_column,omitempty"`
	// Purchases: the numeric column holding the price.
	PriceColumn string `json:"price_column,omitempty"`
	// Purchases: the integer column holding the quantity (1 to 100; null: Braze's default, 1).
	QuantityColumn string `json:"quantity_column,omitempty"`
}

// Validate checks the settings that need no schema; each error names the setting. An empty Kind
// is valid (the kind then comes from the tags).
func (c *EventConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !oneOf(c.Kind, []string{"", KindAttributes, KindEvents, KindPurchases}) {
		add("kind: %q is not one of attributes, events, purchases", c.Kind)
	}
	for _, f := range c.columnSettings() {
		if f.value != "" && isInternalColumn(f.value) {
			add("%s: %q is an internal column (CloudQuery's _cq_*, or brazesync's _brazesync_rejected)", f.name, f.value)
		}
	}
	if c.Kind == KindAttributes {
		if set := c.eventSettings(); len(set) > 0 {
			add("%s: only for kind events or purchases", strings.Join(set, ", "))
		}
	}
	if c.Kind == KindEvents {
		if set := c.purchaseSettings(); len(set) > 0 {
			add("%s: only for kind purchases", strings.Join(set, ", "))
		}
	}
	if c.Kind == KindPurchases && (c.Name != "" || c.NameColumn != "") {
		add("name, name_column: only for kind events (a purchase is named by its product_id)")
	}
	errs = append(errs, oneOfPair("name", c.Name, c.NameColumn), oneOfPair("app_id", c.AppID, c.AppIDColumn),
		oneOfPair("currency", c.Currency, c.CurrencyColumn))
	if c.Name != "" {
		if reason := checkEventText(c.Name); reason != "" {
			add("name: %s", reason)
		}
	}
	if c.AppID != "" {
		if reason := checkEventText(c.AppID); reason != "" {
			add("app_id: %s", reason)
		}
	}
	if c.Currency != "" && !validCurrency(c.Currency) {
		add("currency: %q is not an ISO 4217 currency code such as USD", c.Currency)
	}
	errs = append(errs, validatePropertyMap(c.Properties))
	return errors.Join(errs...)
}

// oneOfPair refuses a constant and a column for the same member.
func oneOfPair(member, constant, column string) error {
	if constant != "" && column != "" {
		return fmt.Errorf("%s, %s_column: set one of them, not both", member, member)
	}
	return nil
}

func validatePropertyMap(props map[string]string) error {
	cols := make([]string, 0, len(props))
	for col := range props {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	var errs []error
	for _, col := range cols {
		switch {
		case col == "":
			errs = append(errs, errors.New("properties: empty column name"))
		case isInternalColumn(col):
			errs = append(errs, fmt.Errorf("properties: column %q is an internal column", col))
		}
		if err := validatePropertyName(props[col]); err != nil {
			errs = append(errs, fmt.Errorf("properties: column %q: %w", col, err))
		}
	}
	return errors.Join(errs...)
}

type setting struct{ name, value string }

// columnSettings lists the settings that name a column.
func (c *EventConfig) columnSettings() []setting {
	return []setting{{"key_column", c.KeyColumn}, {"name_column", c.NameColumn}, {"time_column", c.TimeColumn},
		{"id_column", c.IDColumn}, {"app_id_column", c.AppIDColumn}, {"properties_column", c.PropertiesColumn},
		{"product_id_column", c.ProductIDColumn}, {"currency_column", c.CurrencyColumn},
		{"price_column", c.PriceColumn}, {"quantity_column", c.QuantityColumn}}
}

// EventSettings names the settings that are set, all of which apply only to events and purchases
// (the key_column included: an attribute table's key follows the spec's key_column).
func (c *EventConfig) EventSettings() []string { return c.eventSettings() }

// eventSettings names the settings that are set and apply only to events and purchases.
func (c *EventConfig) eventSettings() []string {
	var out []string
	for _, s := range []setting{{"key_column", c.KeyColumn}, {"name", c.Name}, {"name_column", c.NameColumn}, {"time_column", c.TimeColumn},
		{"id_column", c.IDColumn}, {"app_id", c.AppID}, {"app_id_column", c.AppIDColumn},
		{"properties_column", c.PropertiesColumn}} {
		if s.value != "" {
			out = append(out, s.name)
		}
	}
	if c.Properties != nil {
		out = append(out, "properties")
	}
	return append(out, c.purchaseSettings()...)
}

// purchaseSettings names the settings that are set and apply only to purchases.
func (c *EventConfig) purchaseSettings() []string {
	var out []string
	for _, s := range []setting{{"product_id_column", c.ProductIDColumn}, {"currency", c.Currency},
		{"currency_column", c.CurrencyColumn}, {"price_column", c.PriceColumn}, {"quantity_column", c.QuantityColumn}} {
		if s.value != "" {
			out = append(out, s.name)
		}
	}
	return out
}

// validatePropertyName applies Braze's rules for event and purchase property names
// (docs/braze-api.md §1.2): non-empty, valid UTF-8, at most 255 characters, no leading '$', and not one
// of the reserved names time and event_name.
func validatePropertyName(name string) error {
	switch {
	case name == "":
		return errors.New("property name is empty")
	case !utf8.ValidString(name):
		return errors.New("property name is not valid UTF-8")
	case charCount(name) > MaxStringChars:
		return fmt.Errorf("property name longer than %d characters", MaxStringChars)
	case strings.HasPrefix(name, "$"):
		return fmt.Errorf("property name %q starts with '$'", name)
	case reservedProperties[name]:
		return fmt.Errorf("property name %q is reserved by Braze", name)
	}
	return nil
}

// checkEventText is why a constant name or app_id cannot be sent, or "".
func checkEventText(s string) string {
	switch checkKey(s) {
	case keyInvalidUTF8:
		return "not valid UTF-8"
	case keyControl:
		return "holds a control character"
	case keyTooLong:
		return fmt.Sprintf("longer than %d characters", MaxStringChars)
	}
	return ""
}

// TableKind decides what the rows of a table with schema sc become: the configured kind when set,
// else events when a column is tagged (or named) braze_event or braze_event[NAME], purchases when
// one is tagged (or named) braze_product_id, else attributes. Both sets of tags is an error.
func TableKind(sc *arrow.Schema, c EventConfig) (string, error) {
	if c.Kind != "" {
		return c.Kind, nil
	}
	var events, purchases string
	for _, f := range sc.Fields() {
		if isInternalColumn(f.Name) {
			continue
		}
		for _, t := range append(FieldTags(f), f.Name) {
			if _, isConst := parseEventConstTag(t); isConst || t == TagEventName {
				events = f.Name
			}
			if t == TagProductID {
				purchases = f.Name
			}
		}
	}
	switch {
	case events != "" && purchases != "":
		return "", fmt.Errorf("columns %q (an event name) and %q (a product_id) make the table both events and purchases: set kind in the table's settings", events, purchases)
	case events != "":
		return KindEvents, nil
	case purchases != "":
		return KindPurchases, nil
	}
	return KindAttributes, nil
}

// parseEventConstTag reads the event name of a braze_event[NAME] tag.
func parseEventConstTag(s string) (string, bool) {
	name, ok := strings.CutPrefix(s, tagEventConstPrefix)
	if !ok || !strings.HasSuffix(name, "]") {
		return "", false
	}
	name = name[:len(name)-1]
	return name, name != "" && !strings.ContainsAny(name, "[]")
}
