package cassette

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/llm"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// BenchmarkLookup is the store's side of a replay: one Badger get of a
// recorded call by key.
func BenchmarkLookup(b *testing.B) {
	store, err := Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	rec, _ := NewRecorder(store, &fakeModel{}, Record)
	sess := rec.Session("s", 0)
	for range 100 {
		if _, err := sess.Chat(context.Background(), chatReq("a typical question about Chiller 9")); err != nil {
			b.Fatal(err)
		}
	}
	entries, _ := store.All()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok, err := store.Lookup(entries[i%len(entries)].Key); !ok || err != nil {
			b.Fatal(ok, err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkRecordOverhead is what recording adds to a call: canonicalise,
// redact, hash, write to Badger. The model answers at once.
func BenchmarkRecordOverhead(b *testing.B) {
	store, _ := Open("")
	defer store.Close()
	rec, _ := NewRecorder(store, &fakeModel{}, Record)
	sess := rec.Session("s", 0)
	req := chatReq(strings.Repeat("a long prompt ", 400))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sess.Chat(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
}

// fixedOllama answers every chat with the same message, as a server would
// answer the recorded call.
func fixedOllama() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"model": "m", "created_at": "2020-01-01T00:00:00Z", "done": true, "done_reason": "stop",
			"message":           map[string]any{"role": "assistant", "content": "Chiller 9 read 0.625 kW/ton at 14:15."},
			"prompt_eval_count": 1400, "eval_count": 12,
		})
	}))
}

// BenchmarkReplayVsGoVCR replays the same chat call (a 5.6 KB prompt, as the
// Ollama client sends it) from our cassette and from go-vcr's, the usual Go
// record/replay library, which matches method, URL and body byte for byte
// and replays the HTTP response through the client.
func BenchmarkReplayVsGoVCR(b *testing.B) {
	ctx := context.Background()
	srv := fixedOllama()
	defer srv.Close()
	req := chatReq(strings.Repeat("a long prompt ", 400))
	req.Options.Stop = nil

	b.Run("assetops", func(b *testing.B) {
		live, _ := llm.NewOllama(srv.URL, srv.Client())
		store, _ := Open("")
		defer store.Close()
		rec, _ := NewRecorder(store, showless{live}, Record)
		if _, err := rec.Session("s", 0).Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
		rep, _ := NewRecorder(store, nil, Replay)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rep.Session("s", 0).Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})

	b.Run("go-vcr", func(b *testing.B) {
		name := filepath.Join(b.TempDir(), "vcr")
		r, err := recorder.New(name, recorder.WithMode(recorder.ModeRecordOnly), recorder.WithRealTransport(srv.Client().Transport))
		if err != nil {
			b.Fatal(err)
		}
		live, _ := llm.NewOllama(srv.URL, r.GetDefaultClient())
		if _, err := live.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
		if err := r.Stop(); err != nil {
			b.Fatal(err)
		}
		r, err = recorder.New(name, recorder.WithMode(recorder.ModeReplayOnly), recorder.WithReplayableInteractions(true), recorder.WithSkipRequestLatency(true))
		if err != nil {
			b.Fatal(err)
		}
		replay, _ := llm.NewOllama(srv.URL, r.GetDefaultClient())
		srv.Close() // replay must not need the server
		b.ReportAllocs()
		for b.Loop() {
			if _, err := replay.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
}

// showless gives the fixed server an identity without /api/show.
type showless struct{ *llm.Ollama }

func (showless) Show(_ context.Context, model string) (*llm.ModelInfo, error) {
	return &llm.ModelInfo{Name: model, Digest: "d", ServerVersion: "0.17.4"}, nil
}
