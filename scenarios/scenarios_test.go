package scenarios_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/harness/runner"
	"github.com/assetops/assetops/scenarios"
)

// aob is the original AssetOpsBench scenario folder, beside this repository.
const aob = "../../shared/aob/scenarios"

func TestParse(t *testing.T) {
	tests := []struct {
		name, data string
		wantIDs    []string
		wantErr    string
	}{
		{name: "jsonl", data: "{\"id\":1,\"text\":\"a\"}\n\n{\"id\":\"Q5\",\"utterance\":\"b\",\"phase\":\"development\"}\n", wantIDs: []string{"1", "Q5"}},
		{name: "array", data: ` [{"id":101,"text":"a","deterministic":true},{"id":"wo-01","text":"b"}]`, wantIDs: []string{"101", "wo-01"}},
		{name: "unknown field", data: "{\"id\":1,\"text\":\"a\"}\n{\"id\":2,\"text\":\"b\",\"expect\":{\"fact\":[]}}", wantErr: `f:2: json: unknown field "fact"`},
		{name: "no id", data: `{"text":"a"}`, wantErr: "f:1: missing or invalid id"},
		{name: "fractional id", data: `{"id":1.5,"text":"a"}`, wantErr: "id 1.5 is not an integer"},
		{name: "no text", data: `{"id":3}`, wantErr: "scenario 3 has no text"},
		{name: "array item", data: `[{"id":1,"text":"a"},{"id":2}]`, wantErr: "f: item 2: scenario 2 has no text"},
		{name: "broken line", data: `{"id":1,"text":`, wantErr: "f:1:"},
		{name: "bad clock", data: `{"id":4,"text":"a","now":"next Monday"}`, wantErr: `f:1: scenario 4: now: cannot read time "next Monday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, err := scenarios.Parse("f", []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range ss {
				ids = append(ids, s.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("ids %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

// The original's 141 scenarios load, from the JSONL and from the per-agent
// JSON arrays, and the two agree.
func TestLoadOriginal(t *testing.T) {
	all, err := scenarios.Load(filepath.Join(aob, "all_utterance.jsonl"))
	if err != nil {
		t.Fatalf("the original scenarios must be beside the repository at %s: %v", aob, err)
	}
	if len(all) != 141 {
		t.Fatalf("all_utterance.jsonl: %d scenarios, want 141", len(all))
	}
	everything, err := scenarios.Load(aob)
	if err != nil {
		t.Fatal(err)
	}
	if len(everything) != 282 {
		t.Errorf("folder: %d scenarios, want 141 in the JSONL and 141 in the arrays", len(everything))
	}
	byID := map[string]scenarios.Scenario{}
	for _, s := range all {
		byID[s.ID] = s
	}
	for _, s := range everything {
		if byID[s.ID].Text != s.Text {
			t.Errorf("scenario %s: the files disagree on its text", s.ID)
		}
	}
	if s := byID["413"]; !strings.Contains(s.Text, "CWC04009") || s.Type != "Workorder" {
		t.Errorf("scenario 413 = %+v", s)
	}
}

func TestUniqueAndSelect(t *testing.T) {
	a := scenarios.Scenario{ID: "2", Text: "a"}
	if _, err := scenarios.Unique([]scenarios.Scenario{a, {ID: "2", Text: "b"}}); err == nil {
		t.Error("two different scenarios with one id were accepted")
	}
	got, err := scenarios.Unique([]scenarios.Scenario{a, {ID: "10", Text: "c"}, {ID: "iot-01", Text: "d"}, a})
	if err != nil || len(got) != 3 || got[0].ID != "2" || got[1].ID != "10" || got[2].ID != "iot-01" {
		t.Errorf("Unique = %v, %v", got, err)
	}
	_, err = scenarios.Select(got, []string{"10", "nope"})
	if !errors.Is(err, scenarios.ErrUnknown) || !strings.Contains(err.Error(), `"nope" (have 2, 10, iot-01)`) {
		t.Errorf("Select err = %v", err)
	}
}

// Every embedded scenario is consistent with the dataset: its gold
// trajectory, run through the real tools, succeeds and passes the rules
// judge (so every expected fact is in the answer and in a tool result) with
// τ = 1.
func TestEmbeddedGoldHolds(t *testing.T) {
	ss, err := scenarios.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) < 4 {
		t.Fatalf("%d embedded scenarios, want one a domain at least", len(ss))
	}
	reg := agentstest.Registry(t)
	domains := map[string]bool{}
	for _, s := range ss {
		t.Run(s.ID, func(t *testing.T) {
			domains[s.Type] = true
			if err := runner.ValidateGold(context.Background(), reg, s); err != nil {
				t.Error(err)
			}
		})
	}
	for _, d := range []string{"IoT", "FMSR", "TSFM", "WO"} {
		if !domains[d] {
			t.Errorf("no embedded scenario of type %s", d)
		}
	}
}
