package brazeemu

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestStandardFields covers docs/braze-api.md §2.5: standard fields are validated and
// stored in Profile.Standard (email and phone in their own fields); an invalid value
// rejects the object with an errors[] item.
func TestStandardFields(t *testing.T) {
	cases := []struct {
		name    string
		write   map[string]any
		wantErr string
		want    map[string]any // expected Standard (nil = empty)
		email   string
	}{
		{"names", map[string]any{"first_name": "Jon", "last_name": "Snow", "home_city": "Winterfell"}, "",
			map[string]any{"first_name": "Jon", "last_name": "Snow", "home_city": "Winterfell"}, ""},
		{"first_name not a string", map[string]any{"first_name": 5}, invalidField("first_name"), nil, ""},
		{"valid email", map[string]any{"email": "jon@example.com"}, "", nil, "jon@example.com"},
		{"invalid email (documented string)", map[string]any{"email": "jon@"}, errInvalidEmail, nil, ""},
		{"dob", map[string]any{"dob": "1980-12-21"}, "", map[string]any{"dob": "1980-12-21"}, ""},
		{"dob wrong format", map[string]any{"dob": "21/12/1980"}, invalidField("dob"), nil, ""},
		{"gender codes", map[string]any{"gender": "f"}, "", map[string]any{"gender": "F"}, ""},
		{"gender invalid", map[string]any{"gender": "X"}, invalidField("gender"), nil, ""},
		{"gender null unsets", map[string]any{"gender": nil}, "", nil, ""},
		{"country code", map[string]any{"country": "us"}, "", map[string]any{"country": "US"}, ""},
		{"country name mapped", map[string]any{"country": "Australia"}, "", map[string]any{"country": "AU"}, ""},
		{"country unmappable stored as null", map[string]any{"country": "Atlantis"}, "", nil, ""},
		{"language", map[string]any{"language": "EN"}, "", map[string]any{"language": "en"}, ""},
		{"language invalid", map[string]any{"language": "english"}, invalidField("language"), nil, ""},
		{"subscribe states", map[string]any{"email_subscribe": "opted_in", "push_subscribe": "unsubscribed"}, "",
			map[string]any{"email_subscribe": "opted_in", "push_subscribe": "unsubscribed"}, ""},
		{"subscribe invalid", map[string]any{"email_subscribe": "yes"}, invalidField("email_subscribe"), nil, ""},
		{"time_zone valid", map[string]any{"time_zone": "America/New_York"}, "", map[string]any{"time_zone": "America/New_York"}, ""},
		{"time_zone invalid ignored", map[string]any{"time_zone": "Mars/Olympus"}, "", nil, ""},
		{"session date", map[string]any{"date_of_first_session": "2020-01-02T03:04:05Z"}, "",
			map[string]any{"date_of_first_session": time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}, ""},
		{"subscription group invalid", map[string]any{"subscription_groups": []any{map[string]any{"subscription_group_id": "g"}}},
			invalidField("subscription_groups"), nil, ""},
		{"long first_name not updated", map[string]any{"first_name": strings.Repeat("a", 300)}, "", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, Options{})
			emu.Seed(Profile{ExternalID: "keep"}) // so an all-invalid request still has a valid object
			obj := map[string]any{"external_id": "u1"}
			for k, v := range tc.write {
				obj[k] = v
			}
			res := track(t, emu, map[string]any{"attributes": []any{obj, map[string]any{"external_id": "keep"}}})
			if res.Status != http.StatusCreated {
				t.Fatalf("status %d %+v", res.Status, res.Raw)
			}
			if tc.wantErr != "" {
				if len(res.Body.Errors) != 1 || res.Body.Errors[0].Type != tc.wantErr || res.Body.Errors[0].Index != 0 {
					t.Fatalf("errors %+v, want %q", res.Body.Errors, tc.wantErr)
				}
				if _, ok := emu.Profile("u1"); ok {
					t.Fatal("invalid object was applied")
				}
				return
			}
			if len(res.Body.Errors) != 0 {
				t.Fatalf("unexpected errors %+v", res.Body.Errors)
			}
			p := mustProfile(t, emu, "u1")
			got := p.Standard
			if got == nil {
				got = map[string]any{}
			}
			want := tc.want
			if want == nil {
				want = map[string]any{}
			}
			if !reflect.DeepEqual(got, want) || p.Email != tc.email {
				t.Fatalf("standard %#v email %q, want %#v %q", got, p.Email, want, tc.email)
			}
		})
	}
}

// TestIsStandardField: the switch in isStandardField names exactly standardFields.
func TestIsStandardField(t *testing.T) {
	for k := range standardFields {
		if !isStandardField(k) {
			t.Errorf("isStandardField(%q) = false", k)
		}
	}
	for _, k := range []string{"", "plan", "First_name", "first_name ", "emails", "dob2"} {
		if isStandardField(k) {
			t.Errorf("isStandardField(%q) = true", k)
		}
	}
}
