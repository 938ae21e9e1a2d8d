package brazeemu

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"sort"
	"time"
)

// exportFields are the fields_to_export values Braze accepts (docs/braze-api.md §5).
var exportFields = map[string]bool{
	"apps": true, "attributed_campaign": true, "attributed_source": true, "attributed_adgroup": true,
	"attributed_ad": true, "braze_id": true, "campaigns_received": true, "canvases_received": true,
	"cards_clicked": true, "country": true, "created_at": true, "custom_attributes": true,
	"custom_events": true, "devices": true, "dob": true, "email": true, "email_subscribe": true,
	"external_id": true, "first_name": true, "gender": true, "home_city": true, "language": true,
	"last_coordinates": true, "last_name": true, "phone": true, "purchases": true, "push_subscribe": true,
	"push_tokens": true, "random_bucket": true, "time_zone": true, "total_revenue": true,
	"uninstalled_at": true, "user_aliases": true,
}

// standardExport are the Standard map keys exported under their own names.
var standardExport = []string{
	"first_name", "last_name", "dob", "country", "home_city", "language", "gender", "time_zone",
	"email_subscribe", "push_subscribe", "push_tokens",
}

type exportRequest struct {
	ExternalIDs    []string `json:"external_ids"`
	UserAliases    []Alias  `json:"user_aliases"`
	DeviceID       string   `json:"device_id"`
	BrazeID        string   `json:"braze_id"`
	EmailAddress   string   `json:"email_address"`
	Phone          string   `json:"phone"`
	FieldsToExport []string `json:"fields_to_export"`
}

// ExportResponse is the body of a /users/export/ids answer (§5).
type ExportResponse struct {
	Message        string           `json:"message"`
	Users          []map[string]any `json:"users"`
	InvalidUserIDs []string         `json:"invalid_user_ids,omitempty"`
}

// handleExport implements POST /users/export/ids: up to 50 external_ids and
// user_aliases, or one of braze_id, email_address, phone. Requested IDs that match no
// user are listed in invalid_user_ids (for aliases, the alias_name; unconfirmed).
func (e *Emulator) handleExport(body []byte, _ *Fault) (int, any) {
	var req exportRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return http.StatusBadRequest, message(msgBadJSON)
	}
	if msg := validateExport(&req); msg != "" {
		return http.StatusBadRequest, message(msg)
	}
	fields := map[string]bool{}
	for _, f := range req.FieldsToExport {
		fields[f] = true
	}
	resp := ExportResponse{Message: "success", Users: []map[string]any{}}
	seen := map[string]bool{}
	add := func(p Profile) {
		if !seen[p.BrazeID] {
			seen[p.BrazeID] = true
			resp.Users = append(resp.Users, exportProfile(p, fields))
		}
	}
	for _, id := range req.ExternalIDs {
		if p, ok := e.store.get(id); ok {
			add(p)
		} else {
			resp.InvalidUserIDs = append(resp.InvalidUserIDs, id)
		}
	}
	for _, a := range req.UserAliases {
		if p, ok := e.store.getByAlias(a); ok {
			add(p)
		} else {
			resp.InvalidUserIDs = append(resp.InvalidUserIDs, a.Name)
		}
	}
	if req.BrazeID != "" {
		if p, ok := e.store.getByBrazeID(req.BrazeID); ok {
			add(p)
		} else {
			resp.InvalidUserIDs = append(resp.InvalidUserIDs, req.BrazeID)
		}
	}
	if req.EmailAddress != "" {
		for _, p := range e.store.getByEmail(req.EmailAddress) {
			add(p)
		}
	}
	if req.Phone != "" {
		for _, p := range e.store.getByPhone(req.Phone) {
			add(p)
		}
	}
	e.stats.update(func(s *Stats) { s.Exports++ })
	return http.StatusOK, resp
}

func validateExport(req *exportRequest) string {
	if len(req.ExternalIDs)+len(req.UserAliases) > MaxExportIDs {
		return "Max Input Length Exceeded: at most 50 external_ids and user_aliases"
	}
	singles := 0
	for _, s := range []string{req.DeviceID, req.EmailAddress, req.Phone} {
		if s != "" {
			singles++
		}
	}
	if singles > 1 {
		return "Only one of 'device_id', 'email_address' or 'phone' may be provided"
	}
	if singles == 0 && req.BrazeID == "" && len(req.ExternalIDs)+len(req.UserAliases) == 0 {
		return "No user identifiers provided"
	}
	for _, f := range req.FieldsToExport {
		if !exportFields[f] {
			return "Invalid field in 'fields_to_export': " + f
		}
	}
	return ""
}

// exportProfile renders a profile in the export shape; with no fields requested every
// field the emulator holds is returned. Missing fields are omitted (clients read them
// as null/empty, §5). Times are ISO 8601 strings with milliseconds (unconfirmed).
func exportProfile(p Profile, fields map[string]bool) map[string]any {
	want := func(f string) bool { return len(fields) == 0 || fields[f] }
	u := map[string]any{}
	if want("external_id") && p.ExternalID != "" {
		u["external_id"] = p.ExternalID
	}
	if want("user_aliases") {
		aliases := append([]Alias{}, p.Aliases...)
		u["user_aliases"] = aliases
	}
	if want("braze_id") {
		u["braze_id"] = p.BrazeID
		if len(fields) == 0 {
			u["appboy_id"] = p.BrazeID
		}
	}
	if want("created_at") && !p.CreatedAt.IsZero() {
		u["created_at"] = exportValue(p.CreatedAt)
	}
	if want("email") && p.Email != "" {
		u["email"] = p.Email
	}
	if want("phone") && p.Phone != "" {
		u["phone"] = p.Phone
	}
	for _, k := range standardExport {
		if v, ok := p.Standard[k]; ok && want(k) {
			u[k] = exportValue(v)
		}
	}
	if loc, ok := p.Standard["current_location"].(map[string]any); ok && want("last_coordinates") {
		u["last_coordinates"] = []any{loc["longitude"], loc["latitude"]}
	}
	if want("custom_attributes") && len(p.Custom) > 0 {
		u["custom_attributes"] = exportValue(p.Custom)
	}
	if want("custom_events") && len(p.Events) > 0 {
		u["custom_events"] = aggregateEvents(p.Events)
	}
	if want("purchases") && len(p.Purchases) > 0 {
		u["purchases"] = aggregatePurchases(p.Purchases)
	}
	if want("total_revenue") {
		total := 0.0
		for _, pu := range p.Purchases {
			total += pu.Price * float64(pu.Quantity)
		}
		u["total_revenue"] = total
	}
	if want("random_bucket") {
		h := fnv.New32a()
		_, _ = h.Write([]byte(p.BrazeID))
		u["random_bucket"] = int(h.Sum32() % 10000)
	}
	return u
}

type aggregate struct {
	Name  string `json:"name"`
	First string `json:"first"`
	Last  string `json:"last"`
	Count int    `json:"count"`
}

func aggregateEvents(evs []Event) []aggregate {
	keys := make([]string, len(evs))
	times := make([]time.Time, len(evs))
	for i, ev := range evs {
		keys[i], times[i] = ev.Name, ev.Time
	}
	return aggregateBy(keys, times)
}

func aggregatePurchases(ps []Purchase) []aggregate {
	keys := make([]string, len(ps))
	times := make([]time.Time, len(ps))
	for i, p := range ps {
		keys[i], times[i] = p.ProductID, p.Time
	}
	return aggregateBy(keys, times)
}

func aggregateBy(keys []string, times []time.Time) []aggregate {
	type acc struct {
		first, last time.Time
		n           int
	}
	m := map[string]*acc{}
	for i, k := range keys {
		a := m[k]
		if a == nil {
			a = &acc{first: times[i], last: times[i]}
			m[k] = a
		}
		if times[i].Before(a.first) {
			a.first = times[i]
		}
		if times[i].After(a.last) {
			a.last = times[i]
		}
		a.n++
	}
	out := make([]aggregate, 0, len(m))
	for k, a := range m {
		out = append(out, aggregate{Name: k, First: exportValue(a.first).(string), Last: exportValue(a.last).(string), Count: a.n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
