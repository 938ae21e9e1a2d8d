package actionhub_test

// One test per row of the stock action's limitations table (docs/looker.md, "What changes from
// the stock action"), each showing what brazesync does instead.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/testbin"
)

// detailDoc builds a json_detail document from field JSON and row JSON.
func detailDoc(dims, measures, pivots string, rows ...string) string {
	return fmt.Sprintf(`{"fields":{"dimensions":[%s],"measures":[%s],"pivots":[%s],"table_calculations":[],"filters":[]},"data":[%s]}`,
		dims, measures, pivots, strings.Join(rows, ","))
}

func dim(name, typ string, tags ...string) string {
	b, _ := json.Marshal(map[string]any{"name": name, "type": typ, "tags": append([]string{}, tags...)})
	return string(b)
}

func seedIDs(e *env, ids ...string) {
	for _, id := range ids {
		e.braze.Seed(brazeemu.Profile{ExternalID: id})
	}
}

// Bugs 1 and 3: chunks were fired unawaited and unbounded, and in-flight ones
// were killed when execute returned. Here requests are bounded by the
// destination's concurrency and all have finished before Looker is answered.
func TestBug1And3RequestsAreBoundedAndAwaited(t *testing.T) {
	const rows = 3000
	var inFlight, maxInFlight atomic.Int64
	e := setup(t, envOptions{rows: rows, seed: true, hub: func(c *actionhub.Config) {
		c.Destination = actionhub.DestinationOptions{Concurrency: 3}
	}})
	// Count concurrent /users/track calls in front of the recorder.
	inner := e.brazeURL
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		defer inFlight.Add(-1)
		time.Sleep(2 * time.Millisecond) // give overlapping requests a chance to overlap
		req, _ := http.NewRequest(r.Method, inner+r.URL.Path, r.Body)
		req.Header = r.Header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = fmt.Fprint(w, readAll(resp))
	}))
	defer gate.Close()
	e.brazeURL = gate.URL
	hub, err := actionhub.New(actionhub.Config{Secret: []byte(testSecret), ReportDir: e.reportDir,
		DestinationPath: testbin.Path(t, "braze-destination"),
		Destination:     actionhub.DestinationOptions{Concurrency: 3}})
	require.NoError(t, err)
	e.hub = hub
	srv := httptest.NewServer(e.hub.Handler())
	defer srv.Close()
	e.client.URL = srv.URL
	list, _, err := e.client.List(context.Background())
	require.NoError(t, err)
	e.def, _ = list.Action("braze")

	res := e.send(lookeremu.LookScenario, form("external_id", "B1"))
	require.True(t, res.Success, res.Message)
	// Answered only after every request completed: every user is flagged now.
	assert.Equal(t, int64(0), inFlight.Load())
	for i := range rows {
		p, _ := e.braze.Profile(lookeremu.SeedRow(i)["users.external_id"].(string))
		require.Equal(t, []any{"B1"}, p.Custom["looker_export"], "row %d", i)
	}
	assert.LessOrEqual(t, maxInFlight.Load(), int64(3))
	assert.Greater(t, maxInFlight.Load(), int64(0))
}

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// Bug 2: Braze errors were swallowed and the action said "ok".
func TestBug2BrazeErrorsFailTheAction(t *testing.T) {
	t.Run("wrong key", func(t *testing.T) {
		e := setup(t, envOptions{rows: 5, seed: true})
		data := e.data()
		data["braze_api_key"] = "not-a-key"
		res, err := e.looker.SendLook(context.Background(), e.client, e.def, lookeremu.LookScenario, "", data, form("external_id", ""))
		require.NoError(t, err)
		assert.False(t, res.Success)
		assert.NotEmpty(t, res.Message)
		assert.NotContains(t, res.Message, "not-a-key")
		assert.Equal(t, "failed", e.reports()[0].Status)
	})
	t.Run("server errors until retries run out", func(t *testing.T) {
		e := setup(t, envOptions{rows: 5, seed: true, hub: func(c *actionhub.Config) {
			c.Destination = actionhub.DestinationOptions{MaxAttempts: 2}
		}})
		e.braze.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultStatus, Status: 500, After: 1, Count: 1000})
		res := e.send(lookeremu.LookScenario, form("external_id", ""))
		assert.False(t, res.Success, res.Message)
		assert.Contains(t, res.Message, "5 rows read")
	})
}

// Bug 4: a 100,000-row cap applied silently. TestLookOf250kRowsIsDeliveredWhole
// (scale_test.go) sends 250,000 rows and checks every profile.

// Bug 5: the key travelled in the JSON body. TestStockScenarioPayload checks
// the Authorization header carries it and the body does not.

// Bug 6: no retry, no backoff, no 429 handling.
func TestBug6RateLimitsAndServerErrorsAreRetried(t *testing.T) {
	e := setup(t, envOptions{rows: 400, seed: true})
	e.braze.SetFaults(
		// After: 1 spares the key check the destination makes first.
		brazeemu.Fault{Kind: brazeemu.FaultRateLimit, After: 1, Count: 3},
		brazeemu.Fault{Kind: brazeemu.FaultStatus, Status: 503, After: 1, Count: 2},
	)
	res := e.send(lookeremu.LookScenario, form("external_id", "RETRY"))
	require.True(t, res.Success, res.Message)
	for i := range 400 {
		p, _ := e.braze.Profile(lookeremu.SeedRow(i)["users.external_id"].(string))
		require.Equal(t, []any{"RETRY"}, p.Custom["looker_export"])
	}
	rep := e.reports()[0]
	assert.GreaterOrEqual(t, rep.Retries, int64(5))
	assert.GreaterOrEqual(t, rep.RateLimited, int64(3))
}

// Bug 7: values went out as Looker's strings ("Yes", zone-less datetimes).
func TestBug7ValuesAreTyped(t *testing.T) {
	e := setup(t, envOptions{rows: 6, seed: true})
	res := e.send(lookeremu.LookTyped, form("external_id", ""))
	require.True(t, res.Success, res.Message)
	attrs := e.attributes()
	require.Len(t, attrs, 6)
	for i, a := range attrs {
		want := lookeremu.SeedRow(i)
		assert.Equal(t, want["users.is_vip"] == "Yes", a["is_vip"], "yesno is a JSON boolean")
		assert.Equal(t, want["users.lifetime_value"], a["lifetime_value"], "numbers are JSON numbers")
		seen, err := time.Parse(time.RFC3339, a["last_seen"].(string))
		require.NoError(t, err, "datetimes are ISO-8601 with a zone: %v", a["last_seen"])
		assert.Equal(t, want["users.last_seen_time"], seen.UTC().Format(time.DateTime))
		assert.True(t, strings.HasPrefix(a["signup_date"].(string), want["users.signup_date"].(string)), a["signup_date"])
	}
	p, _ := e.braze.Profile("user_0000003")
	assert.Equal(t, true, p.Custom["is_vip"])
	_, isTime := p.Custom["last_seen"].(time.Time)
	assert.True(t, isTime, "Braze stores the datetime as a date: %T", p.Custom["last_seen"])
}

// Bug 8: pivoted cells vanished from the payload without a word.
func TestBug8PivotsAreExplicit(t *testing.T) {
	t.Run("untagged pivot is carried, users still flagged", func(t *testing.T) {
		e := setup(t, envOptions{rows: 9, seed: true})
		res := e.send(lookeremu.LookPivoted, form("external_id", "PIV"))
		require.True(t, res.Success, res.Message)
		attrs := e.attributes()
		require.Len(t, attrs, 9)
		for _, a := range attrs {
			assert.ElementsMatch(t, []string{"external_id", "_update_existing_only", "looker_export"}, keys(a))
		}
	})
	t.Run("tagged pivoted measure is refused with a reason", func(t *testing.T) {
		e := setup(t, envOptions{rows: 9, seed: true, looker: func(o *lookeremu.Options) {
			fields := append([]lookeremu.Field(nil), o.Views[0].Fields...)
			for i := range fields {
				if fields[i].Name == "sessions.count" {
					fields[i].Tags = []string{"braze[sessions]"}
				}
			}
			o.Views[0].Fields = fields
		}})
		res := e.send(lookeremu.LookPivoted, form("external_id", "PIV"))
		assert.False(t, res.Success)
		assert.Contains(t, res.Message, "pivoted")
		assert.Empty(t, e.attributes())
	})
	t.Run("braze_id on the pivot dimension is refused with a reason", func(t *testing.T) {
		e := setup(t, envOptions{rows: 1})
		doc := detailDoc(dim("users.name", "string"), dim("sessions.count", "count"), dim("users.external_id", "string", "braze_id"),
			`{"users.name":{"value":"a"},"sessions.count":{"users.external_id=u1":{"value":1}}}`)
		res := e.sendDoc(doc, form("external_id", ""))
		assert.False(t, res.Success)
		assert.Contains(t, res.Message, "pivot dimension")
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Bug 9: thrown strings lost their message, so Looker got success:false
// with no reason.
func TestBug9FailuresCarryAMessage(t *testing.T) {
	e := setup(t, envOptions{rows: 1})
	doc := detailDoc(dim("users.email", "string", "braze[email]"), "", "", `{"users.email":{"value":"a@b.c"}}`)
	res := e.sendDoc(doc, form("external_id", ""))
	assert.False(t, res.Success)
	assert.Contains(t, res.Message, "Primary Braze key not found")
}

// Bug 10: a tagged field missing from a row crashed the whole action.
func TestBug10MissingCellsAreNulls(t *testing.T) {
	e := setup(t, envOptions{rows: 1})
	seedIDs(e, "u1", "u2")
	doc := `{"fields":{"dimensions":[` + dim("users.id", "string", "braze_id") + `,` + dim("users.name", "string", "braze[name]") +
		`],"measures":[],"filters":[` + dim("users.region", "string", "braze[region]") + `],"table_calculations":[],"pivots":[]},"data":[` +
		`{"users.id":{"value":"u1"},"users.name":{"value":"Ann"}},` +
		`{"users.id":{"value":"u2"}},` +
		`{"users.name":{"value":"no id"}}]}`
	res := e.sendDoc(doc, form("external_id", ""))
	require.True(t, res.Success, res.Message)
	assert.Contains(t, res.Message, "3 rows read, 2 users sent")
	assert.Contains(t, res.Message, "1 skipped")
	attrs := e.attributes()
	require.Len(t, attrs, 2)
	assert.Equal(t, "Ann", attrs[0]["name"])
	assert.NotContains(t, attrs[1], "name", "a missing value is not sent (nor sent as null)")
	for _, a := range attrs {
		assert.NotContains(t, a, "region", "a filter-only field is not a column")
	}
}

// Bug 11: the endpoint check refused a trailing slash or spaces, but let
// https://attacker.example/x.braze.com through.
func TestBug11EndpointIsCheckedAfterCleaning(t *testing.T) {
	e := setup(t, envOptions{rows: 2, seed: true})
	data := e.data()
	data["braze_api_endpoint"] = "  " + e.brazeURL + "/  "
	res, err := e.looker.SendLook(context.Background(), e.client, e.def, lookeremu.LookScenario, "", data, form("external_id", ""))
	require.NoError(t, err)
	assert.True(t, res.Success, res.Message)

	for _, bad := range []string{"https://attacker.example/x.braze.com", "https://sdk.iad-01.braze.com", "http://rest.iad-01.braze.com", "https://rest.iad-01.braze.com.evil.io"} {
		data["braze_api_endpoint"] = bad
		res, err := e.client.Execute(context.Background(), e.def, lookeremu.ExecutePayload{Type: "query",
			ScheduledPlan: &lookeremu.ScheduledPlan{DownloadURL: "http://127.0.0.1:1/never-fetched"}, Data: data, FormParams: form("external_id", "")})
		require.NoError(t, err)
		assert.False(t, res.Success, bad)
		assert.Contains(t, res.Message, "Bad Endpoint", bad)
	}
}

// Bug 12: the attribute regex was unanchored, case-insensitive and greedy.
// Only the exact form braze[attr] maps; braze[] and braze[a]b] are refused
// by name rather than sent as "" and "a]b".
func TestBug12OnlyExactAttributeTagsMap(t *testing.T) {
	e := setup(t, envOptions{rows: 1})
	seedIDs(e, "u1")
	doc := detailDoc(dim("users.id", "string", "braze_id")+","+dim("a.upper", "string", "BRAZE[upper]")+","+
		dim("a.prefixed", "string", "foo_braze[prefixed]")+","+dim("a.ok", "string", "braze[ok]"), "", "",
		`{"users.id":{"value":"u1"},"a.upper":{"value":"1"},"a.prefixed":{"value":"2"},"a.ok":{"value":"5"}}`)
	res := e.sendDoc(doc, form("external_id", ""))
	require.True(t, res.Success, res.Message)
	attrs := e.attributes()
	require.Len(t, attrs, 1)
	assert.ElementsMatch(t, []string{"external_id", "ok", "_update_existing_only", "looker_export"}, keys(attrs[0]))

	for _, tag := range []string{"braze[]", "braze[a]b]"} {
		bad := detailDoc(dim("users.id", "string", "braze_id")+","+dim("a.bad", "string", tag), "", "",
			`{"users.id":{"value":"u1"},"a.bad":{"value":"4"}}`)
		res = e.sendDoc(bad, form("external_id", ""))
		assert.False(t, res.Success, tag)
		assert.Contains(t, res.Message, "a.bad", tag)
	}
	assert.Len(t, e.attributes(), 1, "nothing sent for the refused documents")
}

// Bug 13: braze[external_id] overwrote the id, braze[looker_export] was
// overwritten by the flag.
func TestBug13ReservedAttributeNamesAreRefused(t *testing.T) {
	for _, attr := range []string{"external_id", "_update_existing_only", "looker_export"} {
		t.Run(attr, func(t *testing.T) {
			e := setup(t, envOptions{rows: 1})
			seedIDs(e, "u1")
			doc := detailDoc(dim("users.id", "string", "braze_id")+","+dim("users.other", "string", "braze["+attr+"]"), "", "",
				`{"users.id":{"value":"u1"},"users.other":{"value":"x"}}`)
			res := e.sendDoc(doc, form("external_id", ""))
			assert.False(t, res.Success, res.Message)
			assert.Contains(t, res.Message, attr)
			assert.Empty(t, e.attributes())
		})
	}
}

// Bug 14: null ids and null attributes were sent as is; duplicates sent twice.
func TestBug14NullsAndDuplicates(t *testing.T) {
	e := setup(t, envOptions{rows: 1})
	seedIDs(e, "u1", "u2")
	doc := detailDoc(dim("users.id", "string", "braze_id")+","+dim("users.name", "string", "braze[name]"), "", "",
		`{"users.id":{"value":"u1"},"users.name":{"value":null}}`,
		`{"users.id":{"value":null},"users.name":{"value":"ghost"}}`,
		`{"users.id":{"value":"u2"},"users.name":{"value":"Bo"}}`,
		`{"users.id":{"value":"u2"},"users.name":{"value":"Bo"}}`)
	res := e.sendDoc(doc, form("external_id", ""))
	require.True(t, res.Success, res.Message)
	rep := e.reports()[0]
	assert.Equal(t, int64(4), rep.RowsRead)
	assert.Equal(t, int64(1), rep.Skipped(), "the null id is skipped and counted")
	assert.True(t, rep.Balanced())
	for _, a := range e.attributes() {
		assert.NotEqual(t, nil, a["external_id"])
		if a["external_id"] == "u1" {
			assert.NotContains(t, a, "name", "a null attribute is omitted, not sent as null")
		}
	}
}

// Bug 15: _update_existing_only was always true. It stays the default (a
// drop-in must not start creating users) and the hub can be told otherwise.
func TestBug15CreatingUsersIsAHubSetting(t *testing.T) {
	t.Run("default updates existing users only", func(t *testing.T) {
		e := setup(t, envOptions{rows: 3})
		res := e.send(lookeremu.LookScenario, form("external_id", ""))
		require.True(t, res.Success, res.Message)
		_, ok := e.braze.Profile("user_0000000")
		assert.False(t, ok)
	})
	t.Run("create-users creates them", func(t *testing.T) {
		e := setup(t, envOptions{rows: 3, hub: func(c *actionhub.Config) {
			c.Destination = actionhub.DestinationOptions{CreateUsers: true}
		}})
		res := e.send(lookeremu.LookScenario, form("external_id", "NEW"))
		require.True(t, res.Success, res.Message)
		p, ok := e.braze.Profile("user_0000002")
		require.True(t, ok)
		assert.Equal(t, []any{"NEW"}, p.Custom["looker_export"])
	})
}

// Bug 16: braze_key could be any string.
func TestBug16UniqueKeyIsValidated(t *testing.T) {
	e := setup(t, envOptions{rows: 2, seed: true})
	res := e.send(lookeremu.LookScenario, form("email", ""))
	assert.False(t, res.Success)
	assert.Contains(t, res.ValidationErrors, "braze_key")

	res = e.send(lookeremu.LookScenario, form("braze_id", "BZ"))
	require.True(t, res.Success, res.Message)
	attrs := e.attributes()
	require.NotEmpty(t, attrs)
	assert.Equal(t, "user_0000000", attrs[0]["braze_id"], "braze_key=braze_id keys objects by braze_id")
	assert.NotContains(t, attrs[0], "external_id")
}

// Bug 17 (json_detail only) is covered by TestListMatchesTheStockAction:
// Lookers from 6.2 are offered json_detail_lite_stream.

// Bug 18: executions ran one at a time. Two executions here overlap: each
// download blocks until both have started.
func TestBug18ExecutionsRunConcurrentlyUpToTheBound(t *testing.T) {
	for _, bound := range []int{1, 2} {
		t.Run(fmt.Sprint(bound), func(t *testing.T) {
			e := setup(t, envOptions{rows: 4, seed: true, hub: func(c *actionhub.Config) { c.MaxConcurrent = bound }})
			look, _ := e.looker.Look(lookeremu.LookScenario)
			doc, err := e.looker.JSONDetail(look.Query)
			require.NoError(t, err)
			var active, peak atomic.Int64
			both := make(chan struct{})
			var once sync.Once
			dl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := active.Add(1)
				defer active.Add(-1)
				if n > peak.Load() {
					peak.Store(n)
				}
				if n == 2 {
					once.Do(func() { close(both) })
				}
				// Wait for the other run. With bound 1 it cannot start, so the
				// wait ends by timeout; with bound 2 it must arrive.
				wait := 300 * time.Millisecond
				if bound > 1 {
					wait = time.Minute
				}
				select {
				case <-both:
				case <-time.After(wait):
				}
				fmt.Fprint(w, doc)
			}))
			defer dl.Close()
			var wg sync.WaitGroup
			results := make([]*lookeremu.ActionResult, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], _ = e.client.Execute(context.Background(), e.def, lookeremu.ExecutePayload{Type: "query",
						ScheduledPlan: &lookeremu.ScheduledPlan{DownloadURL: dl.URL}, Data: e.data(), FormParams: form("external_id", fmt.Sprint("RUN", i))})
				}()
			}
			wg.Wait()
			for _, r := range results {
				require.NotNil(t, r)
				assert.True(t, r.Success, r.Message)
			}
			assert.Equal(t, int64(bound), peak.Load())
			assert.Len(t, e.reports(), 2)
		})
	}
}

// Bug 19: no counts. Every answer says what happened and every run leaves a
// report; and the 255-character limit is handled in the open.
func TestBug19AndLongStringsAreReported(t *testing.T) {
	t.Run("reject", func(t *testing.T) {
		e := setup(t, envOptions{rows: 20, seed: true})
		res := e.send(lookeremu.LookLongString, form("external_id", ""))
		assert.False(t, res.Success, "two rows carry 300-character strings")
		assert.Contains(t, res.Message, "20 rows read, 18 users sent")
		assert.Contains(t, res.Message, "2 rejected")
		rep := e.reports()[0]
		assert.Equal(t, int64(2), rep.Rejected())
		assert.NotEmpty(t, rep.DeadLetterFile)
		assert.True(t, rep.Balanced())
	})
	t.Run("truncate", func(t *testing.T) {
		e := setup(t, envOptions{rows: 20, seed: true, hub: func(c *actionhub.Config) {
			c.Destination = actionhub.DestinationOptions{LongStrings: "truncate"}
		}})
		res := e.send(lookeremu.LookLongString, form("external_id", ""))
		require.True(t, res.Success, res.Message)
		for _, a := range e.attributes() {
			if a["external_id"] == "user_0000009" {
				assert.Len(t, a["about"], 255)
			}
		}
		p, _ := e.braze.Profile("user_0000009")
		assert.Len(t, p.Custom["about"], 255, "%+v", e.braze.Stats())
	})
}
