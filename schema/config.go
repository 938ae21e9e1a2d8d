package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// User key kinds accepted in Config.UserKey.
const (
	UserKeyExternalID = "external_id"
	UserKeyBrazeID    = "braze_id"
	UserKeyUserAlias  = "user_alias"
	UserKeyEmail      = "email"
	UserKeyPhone      = "phone"
)

// Null handling modes accepted in Config.Nulls.
const (
	NullsSkip  = "skip"  // omit the attribute, leaving Braze's value as is
	NullsUnset = "unset" // send JSON null, which removes the attribute in Braze
)

// Long-string modes accepted in Config.LongStrings.
const (
	LongStringsReject   = "reject"   // dead-letter the row
	LongStringsTruncate = "truncate" // cut the string at MaxStringChars characters
)

// MaxStringChars is Braze's limit on string values, nested keys and
// attribute names, counted in characters (Unicode code points).
const MaxStringChars = 255

var (
	userKeys        = []string{UserKeyExternalID, UserKeyBrazeID, UserKeyUserAlias, UserKeyEmail, UserKeyPhone}
	nullModes       = []string{NullsSkip, NullsUnset}
	longStringModes = []string{LongStringsReject, LongStringsTruncate}
)

// Config is the mapping part of the destination spec.
type Config struct {
	// KeyColumn is the column holding the user key. When empty the key is the
	// column tagged braze_id, else the column named like UserKey.
	KeyColumn string `json:"key_column,omitempty"`
	// UserKey is the Braze identifier the key column holds: external_id
	// (default), braze_id, user_alias, email or phone.
	UserKey string `json:"user_key,omitempty"`
	// AliasLabel is the alias_label sent with every alias; required when
	// UserKey is user_alias.
	AliasLabel string `json:"alias_label,omitempty"`
	// Attributes maps column names to Braze attribute names. It overrides tags
	// and braze[attr] column names.
	Attributes map[string]string `json:"attributes,omitempty"`
	// Nulls is skip (default: omit null attributes) or unset (send JSON null).
	Nulls string `json:"nulls,omitempty"`
	// LongStrings is reject (default) or truncate, for strings over 255 characters.
	LongStrings string `json:"long_strings,omitempty"`
}

// SetDefaults fills empty fields with their defaults.
func (c *Config) SetDefaults() {
	if c.UserKey == "" {
		c.UserKey = UserKeyExternalID
	}
	if c.Nulls == "" {
		c.Nulls = NullsSkip
	}
	if c.LongStrings == "" {
		c.LongStrings = LongStringsReject
	}
}

// Validate checks the fields that can be checked without a schema. Each
// error names the spec field. Call SetDefaults first.
func (c *Config) Validate() error {
	var errs []error
	if !oneOf(c.UserKey, userKeys) {
		errs = append(errs, fmt.Errorf("user_key: %q is not one of %s", c.UserKey, strings.Join(userKeys, ", ")))
	}
	if c.UserKey == UserKeyUserAlias && c.AliasLabel == "" {
		errs = append(errs, errors.New("alias_label: required when user_key is user_alias"))
	}
	if c.AliasLabel != "" {
		if p := checkKey(c.AliasLabel); p != keyOK {
			errs = append(errs, fmt.Errorf("alias_label: %s", strings.TrimPrefix(p.reason(), "key ")))
		}
	}
	if !oneOf(c.Nulls, nullModes) {
		errs = append(errs, fmt.Errorf("nulls: %q is not one of %s", c.Nulls, strings.Join(nullModes, ", ")))
	}
	if !oneOf(c.LongStrings, longStringModes) {
		errs = append(errs, fmt.Errorf("long_strings: %q is not one of %s", c.LongStrings, strings.Join(longStringModes, ", ")))
	}
	if isInternalColumn(c.KeyColumn) {
		errs = append(errs, fmt.Errorf("key_column: %q is an internal column (CloudQuery's _cq_*, or brazesync's _brazesync_rejected)", c.KeyColumn))
	}
	cols := make([]string, 0, len(c.Attributes))
	for col := range c.Attributes {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	for _, col := range cols {
		switch {
		case col == "":
			errs = append(errs, errors.New("attributes: empty column name"))
		case isInternalColumn(col):
			errs = append(errs, fmt.Errorf("attributes: column %q is an internal column (CloudQuery's _cq_*, or brazesync's _brazesync_rejected)", col))
		}
		if err := validateAttributeName(c.Attributes[col]); err != nil {
			errs = append(errs, fmt.Errorf("attributes: column %q: %w", col, err))
		}
	}
	return errors.Join(errs...)
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// isInternalColumn reports CloudQuery's own columns (_cq_id, _cq_sync_time…)
// and ColumnRejected, which the mapper never maps.
func isInternalColumn(name string) bool {
	return strings.HasPrefix(name, "_cq_") || name == ColumnRejected
}
