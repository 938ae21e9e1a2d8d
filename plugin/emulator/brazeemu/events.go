package brazeemu

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Error types for events and purchases. Braze's exact strings are unconfirmed
// (docs/braze-api.md §3.2); these follow the wording of the confirmed ones.
const (
	errEventName        = "'name' is required and must be a string of at most 255 characters"
	errTimeRequired     = "'time' is required"
	errTimeInvalid      = "The value provided for the 'time' field is not a valid time."
	errProperties       = "The value provided for the 'properties' field is not valid."
	errProductID        = "'product_id' is required and must be a string of at most 255 characters"
	errCurrency         = "The value provided for the 'currency' field is not a valid ISO 4217 currency code."
	errPrice            = "'price' is required and must be a number"
	errQuantity         = "The value provided for the 'quantity' field must be an integer between 1 and 100."
	maxPropertiesBytes  = 100 << 10
	maxPurchaseQuantity = 100 // commonly cited range 1-100 (§1.2, unconfirmed)
)

// reservedProperties cause API errors when used as event property names (§1.2).
var reservedProperties = map[string]bool{"time": true, "event_name": true}

type eventOp struct {
	id ident
	ev Event
}

type purchaseOp struct {
	id ident
	p  Purchase
}

// prepareEvent validates one event object (§1.2). The object needs an identifier,
// a name and a time; a future time is clamped to now when applied.
func (e *Emulator) prepareEvent(raw any) (eventOp, string) {
	m, ok := raw.(map[string]any)
	if !ok {
		return eventOp{}, errNotAnObject
	}
	id, _, errType := e.identify(m)
	if errType != "" {
		return eventOp{}, errType
	}
	name, ok := m["name"].(string)
	if !ok || name == "" || tooLong(name) {
		return eventOp{}, errEventName
	}
	op := eventOp{id: id, ev: Event{Name: name}}
	if op.ev.Time, errType = objectTime(m); errType != "" {
		return eventOp{}, errType
	}
	if op.ev.AppID, ok = optionalString(m, "app_id"); !ok {
		return eventOp{}, invalidField("app_id")
	}
	if op.ev.Properties, ok = properties(m["properties"]); !ok {
		return eventOp{}, errProperties
	}
	return op, ""
}

// preparePurchase validates one purchase object: product_id, currency, price and time
// are required; quantity defaults to 1.
func (e *Emulator) preparePurchase(raw any) (purchaseOp, string) {
	m, ok := raw.(map[string]any)
	if !ok {
		return purchaseOp{}, errNotAnObject
	}
	id, _, errType := e.identify(m)
	if errType != "" {
		return purchaseOp{}, errType
	}
	pid, ok := m["product_id"].(string)
	if !ok || pid == "" || tooLong(pid) {
		return purchaseOp{}, errProductID
	}
	cur, ok := m["currency"].(string)
	if !ok || !validCurrency(cur) {
		return purchaseOp{}, errCurrency
	}
	num, ok := m["price"].(json.Number)
	if !ok {
		return purchaseOp{}, errPrice
	}
	price, err := num.Float64()
	if err != nil {
		return purchaseOp{}, errPrice
	}
	op := purchaseOp{id: id, p: Purchase{ProductID: pid, Currency: strings.ToUpper(cur), Price: price, Quantity: 1}}
	if q, present := m["quantity"]; present && q != nil {
		n, isNum := q.(json.Number)
		qi, err := n.Int64()
		if !isNum || err != nil || qi < 1 || qi > maxPurchaseQuantity {
			return purchaseOp{}, errQuantity
		}
		op.p.Quantity = qi
	}
	if op.p.Time, errType = objectTime(m); errType != "" {
		return purchaseOp{}, errType
	}
	if op.p.AppID, ok = optionalString(m, "app_id"); !ok {
		return purchaseOp{}, invalidField("app_id")
	}
	if op.p.Properties, ok = properties(m["properties"]); !ok {
		return purchaseOp{}, errProperties
	}
	return op, ""
}

func objectTime(m map[string]any) (t time.Time, errType string) {
	raw, present := m["time"]
	if !present || raw == nil {
		return t, errTimeRequired
	}
	s, ok := raw.(string)
	if !ok {
		return t, errTimeInvalid
	}
	parsed, ok := parseDate(s)
	if !ok {
		return t, errTimeInvalid
	}
	return parsed, ""
}

func optionalString(m map[string]any, k string) (string, bool) {
	v, present := m[k]
	if !present || v == nil {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

// properties validates event/purchase properties (§1.2): keys non-empty, at most 255
// characters, no leading $, not reserved; string values at most 255 characters; the
// payload at most 100 KB when it holds arrays or objects.
func properties(v any) (map[string]any, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	complex := false
	for k, x := range m {
		if k == "" || utf8.RuneCountInString(k) > maxStringLen || strings.HasPrefix(k, "$") || reservedProperties[k] {
			return nil, false
		}
		switch t := x.(type) {
		case string:
			if tooLong(t) {
				return nil, false
			}
		case []any, map[string]any:
			complex = true
		}
	}
	if complex && jsonSize(m) > maxPropertiesBytes {
		return nil, false
	}
	return normaliseMap(m, false), true
}

// validCurrency accepts three ASCII letters (ISO 4217 shape; case-insensitive, stored
// upper-case). Braze's list of accepted codes is not reproduced.
func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
