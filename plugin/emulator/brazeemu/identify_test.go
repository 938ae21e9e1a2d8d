package brazeemu

import (
	"net/http"
	"testing"
)

// TestIdentifierResolution covers docs/braze-api.md §1.3-1.4: braze_id cannot create,
// user_alias is update-only unless _update_existing_only is false, email and phone
// create, email wins over phone, blacklisted and missing identifiers are errors.
func TestIdentifierResolution(t *testing.T) {
	alias := map[string]any{"alias_name": "dev1", "alias_label": "device"}
	cases := []struct {
		name    string
		seed    []Profile
		obj     map[string]any
		wantErr string
		check   func(t *testing.T, emu *Emulator)
	}{
		{"braze_id unknown is skipped", nil, map[string]any{"braze_id": "nope", "x": 1}, "",
			func(t *testing.T, emu *Emulator) { wantProfiles(t, emu, 0) }},
		{"braze_id updates existing", []Profile{{ExternalID: "u1", BrazeID: "b1"}}, map[string]any{"braze_id": "b1", "x": 1}, "",
			func(t *testing.T, emu *Emulator) { wantCustom(t, mustProfile(t, emu, "u1"), "x", int64(1)) }},
		{"alias default is update-only", nil, map[string]any{"user_alias": alias, "x": 1}, "",
			func(t *testing.T, emu *Emulator) { wantProfiles(t, emu, 0) }},
		{"alias with update-only false creates alias-only user", nil,
			map[string]any{"user_alias": alias, "_update_existing_only": false, "x": 1}, "",
			func(t *testing.T, emu *Emulator) {
				p, ok := emu.ProfileByAlias(Alias{Name: "dev1", Label: "device"})
				if !ok || p.ExternalID != "" {
					t.Fatalf("alias-only profile: %v %+v", ok, p)
				}
				wantCustom(t, p, "x", int64(1))
			}},
		{"alias updates existing", []Profile{{ExternalID: "u1", Aliases: []Alias{{Name: "dev1", Label: "device"}}}},
			map[string]any{"user_alias": alias, "x": 1}, "",
			func(t *testing.T, emu *Emulator) { wantCustom(t, mustProfile(t, emu, "u1"), "x", int64(1)) }},
		{"alias missing label", nil, map[string]any{"user_alias": map[string]any{"alias_name": "a"}}, errInvalidAlias, nil},
		{"email creates email-only profile", nil, map[string]any{"email": "a@example.com", "x": 1}, "",
			func(t *testing.T, emu *Emulator) {
				ps := emu.ProfilesByEmail("A@example.com")
				if len(ps) != 1 || ps[0].ExternalID != "" {
					t.Fatalf("email profiles %+v", ps)
				}
			}},
		{"email prefers most recent profile with external_id",
			[]Profile{{ExternalID: "u1", Email: "a@example.com"}, {Email: "a@example.com"}, {ExternalID: "u2", Email: "a@example.com"}},
			map[string]any{"email": "a@example.com", "x": 1}, "",
			func(t *testing.T, emu *Emulator) {
				wantCustom(t, mustProfile(t, emu, "u2"), "x", int64(1))
				if _, ok := mustProfile(t, emu, "u1").Custom["x"]; ok {
					t.Fatal("older profile updated")
				}
			}},
		{"email wins over phone", []Profile{{ExternalID: "e", Email: "a@example.com"}, {ExternalID: "p", Phone: "+15555550100"}},
			map[string]any{"email": "a@example.com", "phone": "+15555550100", "x": 1}, "",
			func(t *testing.T, emu *Emulator) {
				p := mustProfile(t, emu, "e")
				wantCustom(t, p, "x", int64(1))
				if p.Phone != "+15555550100" {
					t.Fatalf("phone not set as a field: %+v", p)
				}
				if _, ok := mustProfile(t, emu, "p").Custom["x"]; ok {
					t.Fatal("phone profile updated")
				}
			}},
		{"phone creates", nil, map[string]any{"phone": "+15555550100", "x": 1}, "",
			func(t *testing.T, emu *Emulator) { wantProfiles(t, emu, 1) }},
		{"external_id wins over alias", []Profile{{ExternalID: "u2", Aliases: []Alias{{Name: "dev1", Label: "device"}}}},
			map[string]any{"external_id": "u1", "user_alias": alias, "x": 1}, "",
			func(t *testing.T, emu *Emulator) { wantCustom(t, mustProfile(t, emu, "u1"), "x", int64(1)) }},
		{"invalid email identifier", nil, map[string]any{"email": "nope"}, errInvalidEmail, nil},
		{"invalid phone identifier", nil, map[string]any{"phone": "call me"}, errInvalidPhone, nil},
		{"blacklisted external_id", nil, map[string]any{"external_id": "undefined"}, errBlacklisted, nil},
		{"numeric external_id", nil, map[string]any{"external_id": 5}, invalidField("external_id"), nil},
		{"no identifier", nil, map[string]any{"first_name": "x"}, errNoIdentifier, nil},
		{"update-only not boolean", nil, map[string]any{"external_id": "u1", "_update_existing_only": "yes"}, errUpdateOnlyArg, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, Options{})
			emu.Seed(tc.seed...)
			before := len(emu.Profiles())
			res := track(t, emu, map[string]any{"attributes": []any{tc.obj}})
			if tc.wantErr != "" {
				if res.Status != http.StatusBadRequest || len(res.Body.Errors) != 1 || res.Body.Errors[0].Type != tc.wantErr {
					t.Fatalf("got %d %+v, want error %q", res.Status, res.Body, tc.wantErr)
				}
				wantProfiles(t, emu, before)
				return
			}
			if res.Status != http.StatusCreated {
				t.Fatalf("status %d %+v", res.Status, res.Raw)
			}
			tc.check(t, emu)
		})
	}
}

// TestEventsResolveIdentifiers covers §1.4 for event objects: an external_id event
// creates the user; with _update_existing_only it is skipped.
func TestEventsResolveIdentifiers(t *testing.T) {
	emu := startEmu(t, Options{})
	ev := func(id string, updateOnly bool) map[string]any {
		return map[string]any{"external_id": id, "name": "n", "time": "2024-01-01T00:00:00Z", "_update_existing_only": updateOnly}
	}
	res := track(t, emu, map[string]any{"events": []any{ev("new", false), ev("skip", true)}})
	if res.Status != http.StatusCreated || *res.Body.EventsProcessed != 2 {
		t.Fatalf("got %d %+v", res.Status, res.Raw)
	}
	if len(mustProfile(t, emu, "new").Events) != 1 {
		t.Fatal("event not recorded")
	}
	if _, ok := emu.Profile("skip"); ok {
		t.Fatal("update-only event created a user")
	}
}

func wantProfiles(t *testing.T, emu *Emulator, n int) {
	t.Helper()
	if got := len(emu.Profiles()); got != n {
		t.Fatalf("%d profiles, want %d: %+v", got, n, emu.Profiles())
	}
}

func wantCustom(t *testing.T, p Profile, k string, v any) {
	t.Helper()
	if p.Custom[k] != v {
		t.Fatalf("custom[%q] = %#v, want %#v (profile %+v)", k, p.Custom[k], v, p)
	}
}
