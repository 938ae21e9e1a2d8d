package brazeemu

import (
	"regexp"
	"strings"
)

// Error types for identifier problems. The first three are Braze's own wording
// (docs/braze-api.md §3.2); the rest are the emulator's (Braze's strings are unconfirmed).
const (
	errNoIdentifier  = "'external_id' or 'braze_id' or 'user_alias' is required"
	errInvalidEmail  = "The value provided for the 'email' field is not a valid email."
	errBlacklisted   = "provided external_id is blacklisted and disallowed"
	errInvalidPhone  = "The value provided for the 'phone' field is not a valid phone number."
	errInvalidAlias  = "'user_alias' must be an object with string 'alias_name' and 'alias_label'"
	errNotAnObject   = "Each object must be a JSON object"
	errUpdateOnlyArg = "The value provided for the '_update_existing_only' field is not valid."
)

func invalidField(name string) string {
	return "The value provided for the '" + name + "' field is not valid."
}

// emailPattern is deliberately loose: one @, no spaces, a dot in the domain.
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)

func validEmail(s string) bool { return len(s) <= 255 && emailPattern.MatchString(s) }

// validPhone accepts what Braze calls a valid number: an optional +, then digits and
// the usual separators, with 7 to 15 digits (the E.164 maximum).
func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

// identify picks the identifier of an attributes, event or purchase object. When
// several are present the order is external_id, braze_id, user_alias, email, phone:
// Braze confirms only "email before phone" (§1.3), the rest is the emulator's choice.
// The returned key names the identifier field so the caller does not treat it as an
// attribute to set.
func (e *Emulator) identify(m map[string]any) (id ident, key string, errType string) {
	updateOnly, hasUpdateOnly := false, false
	if v, ok := m["_update_existing_only"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return ident{}, "", errUpdateOnlyArg
		}
		updateOnly, hasUpdateOnly = b, true
	}
	if v, ok := m["external_id"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr || s == "" || len(s) > 512 {
			return ident{}, "", invalidField("external_id")
		}
		if e.blocked[strings.ToLower(s)] {
			return ident{}, "", errBlacklisted
		}
		return ident{kind: identExternalID, value: s, updateOnly: updateOnly}, "external_id", ""
	}
	if v, ok := m["braze_id"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr || s == "" {
			return ident{}, "", invalidField("braze_id")
		}
		// braze_id can update but never create (CDI docs, §1.3).
		return ident{kind: identBrazeID, value: s, updateOnly: true}, "braze_id", ""
	}
	if v, ok := m["user_alias"]; ok && v != nil {
		a, ok := parseAlias(v)
		if !ok {
			return ident{}, "", errInvalidAlias
		}
		// Update-only is the default for aliases; false creates an alias-only user (§1.4).
		if !hasUpdateOnly {
			updateOnly = true
		}
		return ident{kind: identAlias, alias: a, updateOnly: updateOnly}, "user_alias", ""
	}
	if v, ok := m["email"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr || !validEmail(s) {
			return ident{}, "", errInvalidEmail
		}
		return ident{kind: identEmail, value: s, updateOnly: updateOnly}, "email", ""
	}
	if v, ok := m["phone"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr || !validPhone(s) {
			return ident{}, "", errInvalidPhone
		}
		return ident{kind: identPhone, value: s, updateOnly: updateOnly}, "phone", ""
	}
	return ident{}, "", errNoIdentifier
}

func parseAlias(v any) (Alias, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return Alias{}, false
	}
	name, ok1 := m["alias_name"].(string)
	label, ok2 := m["alias_label"].(string)
	if !ok1 || !ok2 || name == "" || label == "" {
		return Alias{}, false
	}
	return Alias{Name: name, Label: label}, true
}
