package brazeemu

import "time"

// Alias is a Braze user alias (docs/braze-api.md §1.3). A profile holds at most one alias
// per label.
type Alias struct {
	Name  string `json:"alias_name"`
	Label string `json:"alias_label"`
}

// Profile is one stored Braze user as the emulator holds it.
//
// Value types in Custom (and inside nested maps and arrays): string, int64, float64,
// bool, time.Time (date strings are converted, §2.1), []any and map[string]any.
type Profile struct {
	ExternalID string  `json:"external_id,omitempty"`
	BrazeID    string  `json:"braze_id"`
	Aliases    []Alias `json:"user_aliases,omitempty"`
	Email      string  `json:"email,omitempty"`
	Phone      string  `json:"phone,omitempty"`
	// Standard holds the other standard profile fields as stored (first_name, dob,
	// gender, country, language, email_subscribe, ...). dob is a "YYYY-MM-DD" string;
	// date fields such as date_of_first_session are time.Time.
	Standard map[string]any `json:"standard,omitempty"`
	// Custom holds custom attributes as stored.
	Custom    map[string]any `json:"custom,omitempty"`
	Events    []Event        `json:"events,omitempty"`
	Purchases []Purchase     `json:"purchases,omitempty"`
	// CreatedAt is when the emulator created the profile (Options.Now).
	CreatedAt time.Time `json:"created_at"`
}

// Event is one recorded custom event. Braze does not deduplicate events (§1.2), so a
// resent event is recorded twice.
type Event struct {
	Name       string         `json:"name"`
	Time       time.Time      `json:"time"`
	AppID      string         `json:"app_id,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Purchase is one recorded purchase.
type Purchase struct {
	ProductID  string         `json:"product_id"`
	Currency   string         `json:"currency"`
	Price      float64        `json:"price"`
	Quantity   int64          `json:"quantity"`
	Time       time.Time      `json:"time"`
	AppID      string         `json:"app_id,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// clone returns a deep copy so callers never share memory with the store.
func (p *Profile) clone() Profile {
	c := *p
	c.Aliases = append([]Alias(nil), p.Aliases...)
	c.Standard = cloneMap(p.Standard)
	c.Custom = cloneMap(p.Custom)
	if p.Events != nil {
		c.Events = make([]Event, len(p.Events))
		for i, ev := range p.Events {
			ev.Properties = cloneMap(ev.Properties)
			c.Events[i] = ev
		}
	}
	if p.Purchases != nil {
		c.Purchases = make([]Purchase, len(p.Purchases))
		for i, pu := range p.Purchases {
			pu.Properties = cloneMap(pu.Properties)
			c.Purchases[i] = pu
		}
	}
	return c
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = cloneValue(x)
		}
		return c
	default:
		return v
	}
}
