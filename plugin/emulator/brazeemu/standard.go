package brazeemu

import (
	"encoding/json"
	"strings"
	"time"
	_ "time/tzdata" // time_zone validation must not depend on the host's zoneinfo
)

// standardKind says how a standard profile field (docs/braze-api.md §2.5) is validated.
type standardKind uint8

const (
	stdString standardKind = iota
	stdEmail
	stdPhone
	stdDOB
	stdCountry
	stdLanguage
	stdGender
	stdTimeZone
	stdSubscribe
	stdBool
	stdDate
	stdObject
	stdArray
	stdLocation
)

var standardFields = map[string]standardKind{
	"first_name": stdString, "last_name": stdString, "home_city": stdString, "image_url": stdString,
	"email": stdEmail, "phone": stdPhone, "dob": stdDOB, "country": stdCountry, "language": stdLanguage,
	"gender": stdGender, "time_zone": stdTimeZone,
	"email_subscribe": stdSubscribe, "push_subscribe": stdSubscribe,
	"subscription_groups": stdArray, "push_tokens": stdArray,
	"email_open_tracking_disabled": stdBool, "email_click_tracking_disabled": stdBool,
	"current_location":      stdLocation,
	"date_of_first_session": stdDate, "date_of_last_session": stdDate, "marked_email_as_spam_at": stdDate,
	"facebook": stdObject, "twitter": stdObject,
}

// nonBillable are standard fields that cost no data point (§7: subscription states,
// push tokens, and country/language as RudderStack's non-billable list has them).
var nonBillable = map[string]bool{
	"country": true, "language": true, "email_subscribe": true, "push_subscribe": true,
	"subscription_groups": true, "push_tokens": true,
}

// isStandardField reports the keys of standardFields. A switch, not the map: it runs
// for every key of every object (TestIsStandardField keeps the two the same).
func isStandardField(k string) bool {
	switch k {
	case "first_name", "last_name", "home_city", "image_url", "email", "phone", "dob", "country",
		"language", "gender", "time_zone", "email_subscribe", "push_subscribe",
		"subscription_groups", "push_tokens", "email_open_tracking_disabled",
		"email_click_tracking_disabled", "current_location", "date_of_first_session",
		"date_of_last_session", "marked_email_as_spam_at", "facebook", "twitter":
		return true
	}
	return false
}

// subscribeStates are the accepted email_subscribe/push_subscribe values (§2.5).
var subscribeStates = map[string]bool{"opted_in": true, "subscribed": true, "unsubscribed": true}

// genders are Braze's gender codes (§2.5). Matching is case-insensitive and the code is
// stored upper-case (unconfirmed).
var genders = map[string]bool{"M": true, "F": true, "O": true, "N": true, "P": true}

// countryNames maps common country names to ISO 3166-1 alpha-2, a small stand-in for
// Braze's best-effort mapping (§2.5). Two-letter codes are accepted as given.
var countryNames = map[string]string{
	"australia": "AU", "united states": "US", "united states of america": "US", "usa": "US",
	"united kingdom": "GB", "great britain": "GB", "germany": "DE", "france": "FR", "canada": "CA",
	"japan": "JP", "india": "IN", "brazil": "BR", "spain": "ES", "italy": "IT", "mexico": "MX",
	"netherlands": "NL", "ireland": "IE", "new zealand": "NZ", "south korea": "KR", "china": "CN",
	"indonesia": "ID", "singapore": "SG", "sweden": "SE", "switzerland": "CH", "poland": "PL",
}

// prepareStandard validates one standard field. An invalid value rejects the whole
// object with an errors[] item: Braze documents this for email (§2.5, §3.3) and the
// emulator extends it to the other enumerated fields (their strings are unconfirmed).
// Documented exceptions: an unmappable country is stored as null, an invalid time_zone
// is ignored, and a string over 255 characters is not updated.
func prepareStandard(k string, v any) (fieldOp, string) {
	kind := standardFields[k]
	f := fieldOp{name: k, kind: opStdSet, points: 1}
	if nonBillable[k] {
		f.points = 0
	}
	if v == nil {
		return nullStandard(f, kind)
	}
	s, isStr := v.(string)
	switch kind {
	case stdString:
		if !isStr {
			return f, invalidField(k)
		}
		if tooLong(s) {
			f.kind = opReject
		}
		f.val = s
	case stdEmail:
		if !isStr || !validEmail(s) {
			return f, errInvalidEmail
		}
		f.kind, f.val = opEmail, s
	case stdPhone:
		if !isStr || !validPhone(s) {
			return f, errInvalidPhone
		}
		f.kind, f.val = opPhone, s
	case stdDOB:
		if _, err := time.Parse(time.DateOnly, s); !isStr || err != nil {
			return f, invalidField(k)
		}
		f.val = s
	case stdCountry:
		if !isStr {
			return f, invalidField(k)
		}
		code, ok := countryCode(s)
		if !ok {
			f.kind = opStdUnset // "anything it cannot map is stored as NULL"
		}
		f.val = code
	case stdLanguage:
		lang, ok := languageCode(s)
		if !isStr || !ok {
			return f, invalidField(k)
		}
		f.val = lang
	case stdGender:
		g := strings.ToUpper(s)
		if !isStr || !genders[g] {
			return f, invalidField(k)
		}
		f.val = g
	case stdTimeZone:
		if _, err := time.LoadLocation(s); !isStr || s == "" || err != nil {
			f.kind = opReject // "Invalid values are ignored"
		}
		f.val = s
	case stdSubscribe:
		if !isStr || !subscribeStates[s] {
			return f, invalidField(k)
		}
		f.val = s
	case stdBool:
		b, ok := v.(bool)
		if !ok {
			return f, invalidField(k)
		}
		f.val = b
	case stdDate:
		t, ok := parseDate(s)
		if !isStr || !ok {
			return f, invalidField(k)
		}
		f.val = t
	case stdLocation:
		if !validLocation(v) {
			return f, invalidField(k)
		}
		f.val = normaliseValue(v, false)
	case stdObject:
		if _, ok := v.(map[string]any); !ok {
			return f, invalidField(k)
		}
		f.val = normaliseValue(v, false)
	case stdArray:
		if !validObjectArray(k, v) {
			return f, invalidField(k)
		}
		f.val = normaliseValue(v, false)
	}
	return f, ""
}

func nullStandard(f fieldOp, kind standardKind) (fieldOp, string) {
	switch kind {
	case stdEmail:
		f.kind, f.val = opEmail, ""
	case stdPhone:
		f.kind, f.val = opPhone, ""
	default:
		f.kind = opStdUnset // e.g. gender null means "unknown"
	}
	return f, ""
}

func countryCode(s string) (string, bool) {
	if len(s) == 2 {
		u := strings.ToUpper(s)
		if u[0] >= 'A' && u[0] <= 'Z' && u[1] >= 'A' && u[1] <= 'Z' {
			return u, true
		}
	}
	c, ok := countryNames[strings.ToLower(strings.TrimSpace(s))]
	return c, ok
}

// languageCode accepts ISO 639-1 two-letter codes plus Braze's zh-HANS/zh-HANT
// (Braze's full accepted list is not reproduced; any two ASCII letters pass).
func languageCode(s string) (string, bool) {
	l := strings.ToLower(s)
	switch l {
	case "zh-hans":
		return "zh-HANS", true
	case "zh-hant":
		return "zh-HANT", true
	}
	if len(l) == 2 && l[0] >= 'a' && l[0] <= 'z' && l[1] >= 'a' && l[1] <= 'z' {
		return l, true
	}
	return "", false
}

func validLocation(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, k := range []string{"longitude", "latitude"} {
		if _, ok := m[k].(json.Number); !ok {
			return false
		}
	}
	return true
}

// validObjectArray checks subscription_groups and push_tokens entries (§2.5).
func validObjectArray(k string, v any) bool {
	arr, ok := v.([]any)
	if !ok {
		return false
	}
	for _, x := range arr {
		m, ok := x.(map[string]any)
		if !ok {
			return false
		}
		switch k {
		case "subscription_groups":
			id, _ := m["subscription_group_id"].(string)
			st, _ := m["subscription_state"].(string)
			if id == "" || (st != "subscribed" && st != "unsubscribed") {
				return false
			}
		case "push_tokens":
			app, _ := m["app_id"].(string)
			tok, _ := m["token"].(string)
			if app == "" || tok == "" {
				return false
			}
		}
	}
	return true
}
