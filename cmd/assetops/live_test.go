package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assetops/assetops/harness/cassette"
	"github.com/assetops/assetops/harness/result"
	"github.com/assetops/assetops/harness/tinyllm"
	"github.com/assetops/assetops/scenarios"
	"github.com/google/go-cmp/cmp"
)

// liveURL is the real Ollama server of the live tests
// (scripts/ollama-server start). Without one the tests skip, except under
// CI, where a missing server is a failure.
func liveURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("ASSETOPS_OLLAMA_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("ASSETOPS_OLLAMA_URL is not set; under CI the live tests must run (export ASSETOPS_OLLAMA_URL=$(scripts/ollama-server start))")
		}
		t.Skip("ASSETOPS_OLLAMA_URL is not set; start a server with scripts/ollama-server start")
	}
	return url
}

// liveTools keeps the live prompts short: the tiny model reads a byte-level
// vocabulary on one CPU thread, and all 33 tool schemas make a prompt of
// over 20k tokens.
const liveTools = "iot.history,util.current_date_time"

// The live path end to end: the project's tiny model, scripted to play
// iot-01, on a real `ollama serve`. Recording a run and replaying it give
// identical results; a second live recording gives the same keys and the
// same responses but for the server's clock and timings.
func TestLiveRecordReplay(t *testing.T) {
	url := liveURL(t)
	ss, err := scenarios.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ss, _ = scenarios.Select(ss, []string{"iot-01"})
	var args map[string]any
	if err := json.Unmarshal(ss[0].Gold.Steps[0].Args, &args); err != nil {
		t.Fatal(err)
	}
	ordered, _ := json.Marshal(args) // the gold arguments, keys sorted
	gguf, err := tinyllm.Bytes(tinyllm.Script{
		ToolCalls: []tinyllm.Call{{Name: ss[0].Gold.Steps[0].Tool, Arguments: ordered}},
		Answer:    ss[0].Gold.Answer,
		Reply:     "I can only answer about Chiller 9.",
	})
	if err != nil {
		t.Fatal(err)
	}
	const model = "assetops-tiny-iot-01"
	if err := tinyllm.Create(context.Background(), url, model, gguf); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	record := func(name string) (string, string) {
		tape, res := filepath.Join(dir, name+".jsonl"), filepath.Join(dir, name+".json")
		code, _, errs := runMain(t, "run", "--mode", "record", "--ollama", url, "--model", model, "--only", "iot-01", "--tools", liveTools,
			"--cassettes", tape, "--out", res, "--files", filepath.Join(dir, name+".files"))
		if code != 0 {
			t.Fatalf("record %s: exit %d: %s", name, code, errs)
		}
		return tape, res
	}
	tape1, res1 := record("first")
	replayed := filepath.Join(dir, "replayed.json")
	code, out, errs := runMain(t, "run", "--model", model, "--only", "iot-01", "--tools", liveTools, "--cassettes", tape1, "--out", replayed,
		"--files", filepath.Join(dir, "replayed.files"))
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errs)
	}
	first, err := result.ReadFile(res1)
	if err != nil {
		t.Fatal(err)
	}
	again, err := result.ReadFile(replayed)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("replay differs from the live recording (-recorded +replayed):\n%s", diff)
	}
	// The scripted model plays the gold trajectory, through Ollama's own
	// template and tool-call parser.
	rec := first.Records[0]
	if rec.Verdict == nil || !rec.Verdict.Pass || *rec.Tau != 1 || first.Model.ReferencePolicy != "" || strings.Contains(out, "simulated") {
		t.Errorf("live iot-01: verdict %+v, τ %v, policy %q", rec.Verdict, rec.Tau, first.Model.ReferencePolicy)
	}
	if first.Model.Digest == "" || first.Model.ServerVersion != "0.17.4" {
		t.Errorf("model identity %+v", first.Model)
	}

	tape2, _ := record("second")
	a, b := entries(t, tape1), entries(t, tape2)
	if len(a) != 2 || len(a) != len(b) {
		t.Fatalf("%d and %d entries, want 2 each (a tool call, then the answer)", len(a), len(b))
	}
	for i := range a {
		if a[i].Key != b[i].Key {
			t.Errorf("call %d: keys differ between live runs", i+1)
		}
		if diff := cmp.Diff(stable(t, a[i].Response), stable(t, b[i].Response)); diff != "" {
			t.Errorf("call %d: responses differ between live runs (-first +second):\n%s", i+1, diff)
		}
	}
}

func entries(t *testing.T, tape string) []cassette.Entry {
	t.Helper()
	s, err := cassette.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ImportFile(tape); err != nil {
		t.Fatal(err)
	}
	all, err := s.All()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// stable drops what a server may vary between identical calls: its clock
// and its timings.
func stable(t *testing.T, resp json.RawMessage) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatal(err)
	}
	for k := range m {
		if k == "created_at" || strings.HasSuffix(k, "_duration") {
			delete(m, k)
		}
	}
	return m
}
