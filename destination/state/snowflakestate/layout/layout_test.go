package layout

import "testing"

// TestNamespaceIDIsStable pins the id of one namespace: the id names rows already in customers'
// warehouses, so a change would orphan them (every user sent again, the old rows left behind).
// The value is sha256sum of the parts joined by NUL bytes, first 16 hex digits.
func TestNamespaceIDIsStable(t *testing.T) {
	ns := Namespace{Destination: "braze", Endpoint: "rest.iad-01.braze.com", Table: "users", KeyKind: "external_id",
		ExportAttribute: "looker_export", ExportValue: "VIP"}
	if got, want := ns.ID(), "44629fb360d07de2"; got != want {
		t.Errorf("ID() = %s, want %s", got, want)
	}
	moved := ns
	moved.Table, moved.KeyKind = "users\x00external_id", ""
	if moved.ID() == ns.ID() {
		t.Error("parts are not separated")
	}
}

func TestLiteralAndIdent(t *testing.T) {
	for in, want := range map[string]string{
		"tier": "'tier'",
		`it's`: "'it''s'",
		`a\b`:  `'a' || CHR(92) || 'b'`,
		`\`:    `'' || CHR(92) || ''`,
		"":     "''",
		`q"\'`: `'q"' || CHR(92) || ''''`,
	} {
		if got := Literal(in); got != want {
			t.Errorf("Literal(%q) = %s, want %s", in, got, want)
		}
	}
	if Ident("BRAZE") != "BRAZE" || Ident("my db") != `"my db"` || Ident(`a"b`) != `"a""b"` {
		t.Error("Ident")
	}
	if Qualified("BRAZE", "BRAZESYNC", StateTable) != "BRAZE.BRAZESYNC.BRAZESYNC_STATE" {
		t.Error("Qualified")
	}
}
