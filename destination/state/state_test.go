package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testNS = Namespace{Destination: "braze", Table: "users", KeyKind: "external_id", ExportAttribute: "looker_export", ExportValue: "VIP"}

func openT(t *testing.T, dir, run string) *Local {
	t.Helper()
	l, err := Open(dir, Options{RunID: run})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func spaceT(t *testing.T, l *Local, ns Namespace) Space {
	t.Helper()
	sp, err := l.Space(context.Background(), ns)
	if err != nil {
		t.Fatalf("Space: %v", err)
	}
	return sp
}

// TestHashValueDefinition pins the one definition of the hash: the first 8 bytes of SHA-256 of the
// value's JSON text (vectors from an independent SHA-256, as Snowflake's SHA2_BINARY computes it).
func TestHashValueDefinition(t *testing.T) {
	for in, want := range map[string]string{`"gold"`: "8dd7871b52fd5765", `42`: "73475cb40a568e8d", `null`: "74234e98afe7498f"} {
		if got := HashValue([]byte(in)).String(); got != want {
			t.Errorf("HashValue(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	in := raw{flagged: true, flaggedAt: 1700000000, ordinal: 12345, version: 99,
		attrs: []rawAttr{{id: 0, hash: HashValue([]byte("1")), sentAt: 1700000000}, {id: 7, hash: HashValue([]byte("2")), sentAt: 1690000000}}}
	var out raw
	if err := decodeRecord(encodeRecord(nil, &in), &out); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(in) != fmt.Sprint(out) {
		t.Fatalf("round trip:\n in %+v\nout %+v", in, out)
	}
	enc := encodeRecord(nil, &in)
	for cut := 1; cut < len(enc); cut++ {
		if err := decodeRecord(enc[:cut], &out); err == nil {
			t.Fatalf("a record cut at %d of %d bytes decoded", cut, len(enc))
		}
	}
}

// TestCommitMergesAndSurvivesReopen: a commit changes only the attributes it names, sets the flag,
// counts users, and is there after the store is closed and opened again.
func TestCommitMergesAndSurvivesReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	l := openT(t, dir, "run-1")
	sp := spaceT(t, l, testNS)
	ctx := context.Background()
	h := func(s string) Hash { return HashValue([]byte(s)) }
	err := sp.Commit(ctx, []Update{
		{Key: []byte("u1"), Attrs: []Attr{{Name: "tier", Hash: h(`"gold"`), SentAt: 100}, {Name: "age", Hash: h(`42`), SentAt: 100}}, Flag: FlagSet, SentAt: 100},
		{Key: []byte("u2"), Attrs: []Attr{{Name: "tier", Hash: h(`"blue"`), SentAt: 100}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	v1 := l.Version()
	if err := sp.Commit(ctx, []Update{{Key: []byte("u1"), Attrs: []Attr{{Name: "tier", Hash: h(`"red"`), SentAt: 200}}}}); err != nil {
		t.Fatal(err)
	}
	if l.Version() <= v1 {
		t.Fatalf("version did not grow: %d then %d", v1, l.Version())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openT(t, dir, "run-2")
	sp = spaceT(t, l, testNS)
	var rec Record
	ok, err := sp.Lookup([]byte("u1"), &rec)
	if err != nil || !ok {
		t.Fatalf("lookup u1: %v %v", ok, err)
	}
	if a := rec.Attr("tier"); a == nil || a.Hash != h(`"red"`) || a.SentAt != 200 {
		t.Errorf("tier = %+v, want the second commit's", a)
	}
	if a := rec.Attr("age"); a == nil || a.Hash != h(`42`) || a.SentAt != 100 {
		t.Errorf("age = %+v, want kept from the first commit", a)
	}
	if !rec.Flagged || rec.FlaggedAt != 100 {
		t.Errorf("flag = %v at %d", rec.Flagged, rec.FlaggedAt)
	}
	if ok, _ := sp.Lookup([]byte("nobody"), &rec); ok {
		t.Error("found a user never committed")
	}
	info, err := sp.Info(ctx)
	if err != nil || info.Users != 2 || info.Flagged != 1 || info.LastRun != "run-1" || strings.Join(info.Attributes, ",") != "age,tier" {
		t.Errorf("info %+v, %v", info, err)
	}
	other := spaceT(t, l, Namespace{Destination: "braze", Table: "users", KeyKind: "email"})
	if ok, _ := other.Lookup([]byte("u1"), &rec); ok {
		t.Error("another namespace sees u1")
	}
}

// TestScanSinceAndSeen: Scan enumerates what changed after a version, and tells which users this
// run looked up or committed (mirror mode's "not seen in this run").
func TestScanSinceAndSeen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l := openT(t, dir, "run-1")
	sp := spaceT(t, l, testNS)
	var ups []Update
	for i := range 10 {
		ups = append(ups, Update{Key: []byte(fmt.Sprintf("u%02d", i)), Flag: FlagSet, SentAt: 1})
	}
	if err := sp.Commit(ctx, ups); err != nil {
		t.Fatal(err)
	}
	l.Close()

	l = openT(t, dir, "run-2")
	sp = spaceT(t, l, testNS)
	start := l.Version()
	var rec Record
	for _, k := range []string{"u01", "u03"} {
		if ok, err := sp.Lookup([]byte(k), &rec); !ok || err != nil {
			t.Fatalf("lookup %s: %v %v", k, ok, err)
		}
	}
	if err := sp.Commit(ctx, []Update{{Key: []byte("u05"), Attrs: []Attr{{Name: "a", SentAt: 2}}}, {Key: []byte("new"), Flag: FlagSet}}); err != nil {
		t.Fatal(err)
	}
	var all, seen, changed []string
	err := sp.Scan(ctx, 0, func(r *Record, s bool) error {
		all = append(all, string(r.Key))
		if s {
			seen = append(seen, string(r.Key))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = sp.Scan(ctx, start, func(r *Record, _ bool) error { changed = append(changed, string(r.Key)); return nil })
	if len(all) != 11 || strings.Join(seen, ",") != "new,u01,u03,u05" || strings.Join(changed, ",") != "new,u05" {
		t.Fatalf("all %v\nseen %v\nchanged since %d %v", all, seen, start, changed)
	}
}

// TestSecondRunIsRefused: another process opening a held folder fails at once naming the holder,
// and the folder is free again once the first closes. Runs of one process share the store.
func TestSecondRunIsRefused(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, "run-A")
	out, err := helperOpen(t, dir)
	if err == nil {
		t.Fatalf("a second process opened a held folder:\n%s", out)
	}
	if !strings.Contains(out, "in use by run run-A") || !strings.Contains(out, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("error does not name the holder:\n%s", out)
	}
	same, err := Open(dir, Options{RunID: "run-A2"})
	if err != nil || same != l {
		t.Fatalf("a second open in the same process: %v (same store: %v)", err, same == l)
	}
	same.Close()
	if _, err := l.Space(context.Background(), testNS); err != nil {
		t.Fatalf("the first open was closed by the second's Close: %v", err)
	}
	l.Close()
	if out, err := helperOpen(t, dir); err != nil {
		t.Fatalf("open after release: %v\n%s", err, out)
	}
}

// helperOpen opens dir from another process (this test binary, re-run as TestHelperOpen).
func helperOpen(t *testing.T, dir string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperOpen$")
	cmd.Env = append(os.Environ(), "STATE_HELPER_DIR="+dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestHelperOpen is the other process of TestSecondRunIsRefused; it does nothing in a normal run.
func TestHelperOpen(t *testing.T) {
	dir := os.Getenv("STATE_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	l, err := Open(dir, Options{RunID: "run-B"})
	if err != nil {
		var le *LockedError
		fmt.Println(err, errors.As(err, &le), errors.Is(err, ErrLocked))
		os.Exit(3)
	}
	l.Close()
}

// TestDamagedFolders: every way a folder can be damaged gives ErrCorrupt (or ErrNewerFormat), never
// an empty store.
func TestDamagedFolders(t *testing.T) {
	populated := func(t *testing.T) string {
		dir := t.TempDir()
		l := openT(t, dir, "r")
		sp := spaceT(t, l, testNS)
		var ups []Update
		for i := range 2000 {
			ups = append(ups, Update{Key: []byte(fmt.Sprintf("user-%06d", i)), Attrs: []Attr{{Name: "a", Hash: HashValue([]byte("1"))}}})
		}
		if err := sp.Commit(context.Background(), ups); err != nil {
			t.Fatal(err)
		}
		if err := l.db.Flush(); err != nil { // put the records in a table file
			t.Fatal(err)
		}
		l.Close()
		return dir
	}
	glob := func(t *testing.T, dir, pattern string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) == 0 {
			t.Fatalf("no %s in %s", pattern, dir)
		}
		return m
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   error
	}{
		{"garbled marker", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, markerFile), []byte("{nonsense"), 0o600)
		}, ErrCorrupt},
		{"marker deleted", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, markerFile)) }, ErrCorrupt},
		{"manifest deleted", func(t *testing.T, dir string) {
			for _, f := range glob(t, dir, "MANIFEST-*") {
				os.Remove(f)
			}
		}, ErrCorrupt},
		{"store files deleted", func(t *testing.T, dir string) {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != markerFile && e.Name() != lockFile {
					os.RemoveAll(filepath.Join(dir, e.Name()))
				}
			}
		}, nil}, // only the marker left: see below
		{"table truncated", func(t *testing.T, dir string) {
			for _, f := range glob(t, dir, "*.sst") {
				fi, _ := os.Stat(f)
				os.Truncate(f, fi.Size()/2)
			}
		}, ErrCorrupt},
		{"table garbled", func(t *testing.T, dir string) {
			for _, f := range glob(t, dir, "*.sst") {
				b, _ := os.ReadFile(f)
				for i := len(b) - 200; i < len(b)-8; i++ {
					b[i] ^= 0x5a
				}
				os.WriteFile(f, b, 0o600)
			}
		}, ErrCorrupt},
		{"newer format", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, markerFile), []byte(`{"format": 99}`), 0o600)
		}, ErrNewerFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := populated(t)
			c.damage(t, dir)
			l, err := Open(dir, Options{RunID: "r2"})
			if c.want == nil {
				// Every store file gone but the marker: indistinguishable from a creation that
				// stopped half-way only if no record was ever made; it must not pass as that.
				if err == nil {
					sp := spaceT(t, l, testNS)
					var rec Record
					ok, _ := sp.Lookup([]byte("user-000001"), &rec)
					l.Close()
					t.Fatalf("opened a folder whose store was deleted as if new (record found: %v)", ok)
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err = %v, want ErrCorrupt", err)
				}
				return
			}
			if err == nil {
				l.Close()
				t.Fatalf("opened a damaged folder")
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), "state_dir "+dir) {
				t.Errorf("error does not name the folder: %v", err)
			}
		})
	}
}

// TestReset forgets one namespace and keeps the others.
func TestReset(t *testing.T) {
	l := openT(t, t.TempDir(), "r")
	ctx := context.Background()
	other := testNS
	other.Table = "orders"
	for _, ns := range []Namespace{testNS, other} {
		if err := spaceT(t, l, ns).Commit(ctx, []Update{{Key: []byte("u"), Flag: FlagSet}}); err != nil {
			t.Fatal(err)
		}
	}
	gone, err := l.Reset(ctx, func(ns Namespace) bool { return ns.Table == "users" })
	if err != nil || len(gone) != 1 || gone[0] != testNS {
		t.Fatalf("reset: %v %v", gone, err)
	}
	var rec Record
	if ok, _ := spaceT(t, l, testNS).Lookup([]byte("u"), &rec); ok {
		t.Error("reset namespace still has its user")
	}
	if ok, _ := spaceT(t, l, other).Lookup([]byte("u"), &rec); !ok {
		t.Error("the other namespace lost its user")
	}
}

// TestImportReplaces: Import writes whole records and deletes empty ones, keeping the counts right.
func TestImportReplaces(t *testing.T) {
	l := openT(t, t.TempDir(), "r")
	ctx := context.Background()
	sp := spaceT(t, l, testNS)
	if err := sp.Commit(ctx, []Update{{Key: []byte("a"), Attrs: []Attr{{Name: "x"}, {Name: "y"}}, Flag: FlagSet}}); err != nil {
		t.Fatal(err)
	}
	err := sp.Import(ctx, []Record{{Key: []byte("a"), Attrs: []Attr{{Name: "z", Hash: HashValue([]byte("1")), SentAt: 5}}},
		{Key: []byte("b"), Flagged: true, FlaggedAt: 7}, {Key: []byte("c")}})
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if ok, _ := sp.Lookup([]byte("a"), &rec); !ok || len(rec.Attrs) != 1 || rec.Attrs[0].Name != "z" || rec.Flagged {
		t.Errorf("a = %+v", rec)
	}
	info, _ := sp.Info(ctx)
	if info.Users != 2 || info.Flagged != 1 {
		t.Errorf("info %+v", info)
	}
	if err := sp.Import(ctx, []Record{{Key: []byte("b")}}); err != nil {
		t.Fatal(err)
	}
	if info, _ = sp.Info(ctx); info.Users != 1 || info.Flagged != 0 {
		t.Errorf("after deleting b: %+v", info)
	}
}

// TestReadOnly: show opens without creating; a missing folder is ErrNoState.
func TestReadOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrNoState) {
		t.Fatalf("read-only open of a missing folder: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("read-only open created the folder")
	}
	_ = time.Second
}
