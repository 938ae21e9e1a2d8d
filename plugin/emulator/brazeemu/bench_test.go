package brazeemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchBodies builds n request bodies of 75 attribute objects each (6 writes per
// object: strings, a number, a boolean, a date and an array add), over 10,000 users.
func benchBodies(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		objs := make([]any, 75)
		for j := range objs {
			objs[j] = map[string]any{
				"external_id": fmt.Sprintf("user-%d", (i*75+j)%10000),
				"first_name":  "Jon", "plan": "gold", "score": i + j, "active": true,
				"signup": "2024-01-02T03:04:05Z", "tags": map[string]any{"add": []any{"a", fmt.Sprint(j % 7)}},
			}
		}
		out[i], _ = json.Marshal(map[string]any{"attributes": objs})
	}
	return out
}

func reportThroughput(b *testing.B) {
	secs := b.Elapsed().Seconds()
	if secs > 0 {
		b.ReportMetric(float64(b.N)/secs, "req/s")
		b.ReportMetric(float64(b.N)*75/secs, "objects/s")
	}
}

// BenchmarkTrack measures /users/track with 75-object requests, in process
// (ServeHTTP) and over loopback HTTP with parallel clients. Run:
//
//	go test ./plugin/emulator/brazeemu/ -run '^$' -bench BenchmarkTrack -benchtime 3s
func BenchmarkTrack(b *testing.B) {
	bodies := benchBodies(64)
	b.Run("inprocess", func(b *testing.B) {
		emu := New(Options{APIKeys: []string{testKey}, RateLimit: -1})
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := httptest.NewRequest(http.MethodPost, pathTrack, bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Authorization", "Bearer "+testKey)
			w := httptest.NewRecorder()
			emu.ServeHTTP(w, req)
			if w.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
		reportThroughput(b)
	})
	b.Run("loopback", func(b *testing.B) {
		emu := start(b, Options{APIKeys: []string{testKey}, RateLimit: -1})
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.ReportAllocs()
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				req, _ := http.NewRequest(http.MethodPost, emu.URL()+pathTrack, bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Authorization", "Bearer "+testKey)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		reportThroughput(b)
	})
}

// BenchmarkTrackManyUsers is /users/track as brazesync's benchmarks drive it: bodies
// shaped like the destination's (a key, four typed attributes and an export flag), each
// request creating 75 new profiles, so the store grows as in a million-row run (b.N
// requests × 75 profiles). Run:
//
//	go test ./plugin/emulator/brazeemu/ -run '^$' -bench BenchmarkTrackManyUsers -benchtime 13000x
func BenchmarkTrackManyUsers(b *testing.B) {
	emu := New(Options{APIKeys: []string{testKey}, RateLimit: -1})
	body := make([]byte, 0, 16<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		body = append(body[:0], `{"attributes":[`...)
		for j := 0; j < 75; j++ {
			if j > 0 {
				body = append(body, ',')
			}
			n := i*75 + j
			body = fmt.Appendf(body, `{"external_id":"u-%d","_update_existing_only":false,"score":%d,"segment":"segment-%d","vip":%t,"ltv":%g,"looker_export":{"add":["BENCH"]}}`,
				n, n%1000, n%7, n%3 == 0, float64(n%10000)/4)
		}
		body = append(body, "]}"...)
		req := httptest.NewRequest(http.MethodPost, pathTrack, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		w := httptest.NewRecorder()
		b.StartTimer()
		emu.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	reportThroughput(b)
}
