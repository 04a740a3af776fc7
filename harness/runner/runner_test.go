package runner

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/system"
	"github.com/assetops/assetops/fixtures"
	"github.com/assetops/assetops/harness/cassette"
	"github.com/assetops/assetops/harness/result"
	"github.com/assetops/assetops/harness/sim"
	"github.com/assetops/assetops/scenarios"
	"github.com/google/go-cmp/cmp"
)

func embedded(t testing.TB) []scenarios.Scenario {
	t.Helper()
	ss, err := scenarios.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func newRunner(t testing.TB, rec *cassette.Recorder) *Runner {
	return &Runner{
		Recorder: rec,
		Tools:    agentstest.Registry(t),
		Model:    "oracle",
		Ask:      true,
		Options:  llm.DefaultOptions(),
		Dataset:  result.Dataset{Source: "generated", GeneratorVersion: fixtures.GeneratorVersion, Seed: fixtures.DefaultSeed},
	}
}

// simModel serves the policies over real HTTP for the test's duration.
func simModel(tb testing.TB, policies map[string]sim.Policy) llm.Model {
	srv := httptest.NewServer(sim.New(policies))
	tb.Cleanup(srv.Close)
	live, err := llm.NewOllama(srv.URL, srv.Client())
	if err != nil {
		tb.Fatal(err)
	}
	return live
}

// recording is a runner that records live into a fresh in-memory store.
func recording(tb testing.TB, live llm.Model) (*Runner, *cassette.Store) {
	store, err := cassette.Open("")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	rec, err := cassette.NewRecorder(store, live, cassette.Record)
	if err != nil {
		tb.Fatal(err)
	}
	return newRunner(tb, rec), store
}

// The simulator over real HTTP, recorded into a Badger store on disk, then
// replayed from the store and from its export: all three runs are equal.
func TestRecordThenReplay(t *testing.T) {
	ctx := context.Background()
	ss := embedded(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		sim.New(map[string]sim.Policy{"oracle": sim.NewOracle(ss)}).ServeHTTP(w, r)
	}))
	defer srv.Close()
	live, err := llm.NewOllama(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}

	store, err := cassette.Open(filepath.Join(t.TempDir(), "badger"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, _ := cassette.NewRecorder(store, live, cassette.Record)
	recorded, err := newRunner(t, rec).Run(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded.Records) != len(ss) || recorded.Model.ReferencePolicy != "oracle" {
		t.Fatalf("recorded %d records, policy %q", len(recorded.Records), recorded.Model.ReferencePolicy)
	}
	for _, r := range recorded.Records {
		if !r.Verdict.Pass || *r.Tau != 1 {
			t.Errorf("oracle on %s: pass %v, τ %.2f, %q", r.ScenarioID, r.Verdict.Pass, *r.Tau, r.Verdict.Reasons)
		}
	}
	liveCalls := hits.Load()

	rep, _ := cassette.NewRecorder(store, nil, cassette.Replay)
	replayed, err := newRunner(t, rep).Run(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recorded, replayed); diff != "" {
		t.Errorf("replay differs from the recording (-recorded +replayed):\n%s", diff)
	}

	export := filepath.Join(t.TempDir(), "c.jsonl")
	if err := store.ExportFile(export); err != nil {
		t.Fatal(err)
	}
	fresh, err := cassette.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := fresh.ImportFile(export); err != nil {
		t.Fatal(err)
	}
	rep2, _ := cassette.NewRecorder(fresh, nil, cassette.Replay)
	fromExport, err := newRunner(t, rep2).Run(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recorded, fromExport); diff != "" {
		t.Errorf("replay from the export differs (-recorded +replayed):\n%s", diff)
	}
	if hits.Load() != liveCalls {
		t.Errorf("replay reached the server: %d requests after recording, want 0", hits.Load()-liveCalls)
	}
}

// A server that dies mid-run stops the run with an error naming the scenario.
func TestServerDiesMidRun(t *testing.T) {
	ss := embedded(t)
	oracle := sim.New(map[string]sim.Policy{"oracle": sim.NewOracle(ss)})
	var chats atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/chat" && chats.Add(1) > 3 {
			// Drop the connection, as a crashed server would.
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		oracle.ServeHTTP(w, r)
	}))
	defer srv.Close()
	live, _ := llm.NewOllama(srv.URL, srv.Client())
	store, _ := cassette.Open("")
	defer store.Close()
	rec, _ := cassette.NewRecorder(store, live, cassette.Record)
	_, err := newRunner(t, rec).Run(context.Background(), ss)
	if err == nil || !strings.Contains(err.Error(), "scenario "+ss[1].ID+": ollama") || !strings.Contains(err.Error(), "chat oracle") {
		t.Fatalf("err = %v, want a chat error naming scenario %s", err, ss[1].ID)
	}
	// What was answered before the crash stays recorded.
	entries, _ := store.All()
	if len(entries) != 3 { // three chats; the model's identity is kept apart
		t.Errorf("%d entries kept, want 3", len(entries))
	}
	if _, ok, _ := store.Model("oracle"); !ok {
		t.Error("the model's identity was not kept")
	}
}

// BenchmarkReplayRun replays the embedded scenarios from a recording, per
// agent style: everything a run costs but the model (cassette lookups,
// tools on the embedded dataset, orchestration, scoring).
func BenchmarkReplayRun(b *testing.B) {
	ctx := context.Background()
	ss := embedded(b)
	live := simModel(b, sim.Policies(ss))
	for _, style := range system.Styles {
		b.Run(style, func(b *testing.B) {
			r, store := recording(b, live)
			r.Style = style
			if _, err := r.Run(ctx, ss); err != nil {
				b.Fatal(err)
			}
			r.Recorder, _ = cassette.NewRecorder(store, nil, cassette.Replay)
			var run *result.Run
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if run, err = r.Run(ctx, ss); err != nil {
					b.Fatal(err)
				}
			}
			calls := 0
			for _, rec := range run.Records {
				calls += rec.Trajectory.Usage.Calls
			}
			b.ReportMetric(float64(b.N*len(run.Records))/b.Elapsed().Seconds(), "scenarios/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*calls)/1e3, "µs/model-call")
		})
	}
}

// Each scenario's tools see its clock and write into its own folder.
func TestScenarioEnvironment(t *testing.T) {
	ctx := context.Background()
	ss, err := scenarios.Parse("env.jsonl", []byte(`{"id":"clock","text":"What time is it, and what did Chiller 9 read on June 1st?","now":"2020-06-10T08:30:00",`+
		`"gold":{"steps":[{"tool":"util.current_date_time","args":{}},`+
		`{"tool":"iot.history","args":{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-01","end":"2020-06-02","limit":1}}],"answer":"It is 2020-06-10."}}
{"id":"default","text":"What time is it?","gold":{"steps":[{"tool":"util.current_date_time","args":{}}],"answer":"It is 2021-01-04."}}`))
	if err != nil {
		t.Fatal(err)
	}
	live := simModel(t, map[string]sim.Policy{"oracle": sim.NewOracle(ss)})
	store, err := cassette.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, _ := cassette.NewRecorder(store, live, cassette.Record)
	r := newRunner(t, rec)
	r.OutDir = t.TempDir()
	run, err := r.Run(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`"currentDateTime":"2020-06-10T08:30:00"`, `"currentDateTime":"2021-01-04T09:00:00"`} {
		if obs := string(run.Records[i].Trajectory.Steps[0].Observation); !strings.Contains(obs, want) {
			t.Errorf("%s: clock %s, want %s", ss[i].ID, obs, want)
		}
	}
	var h struct {
		FilePath string `json:"file_path"`
	}
	if err := json.Unmarshal(run.Records[0].Trajectory.Steps[1].Observation, &h); err != nil || h.FilePath == "" {
		t.Fatalf("history wrote no file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.OutDir, "clock", h.FilePath)); err != nil {
		t.Errorf("the file is not in the scenario's folder: %v", err)
	}
}
