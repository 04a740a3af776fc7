package trajectory

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Actions flattens nested domain-agent runs in order and leaves out actions
// that did not run; a domain-agent call that never ran its agent stays.
func TestActions(t *testing.T) {
	tr := &Trajectory{Steps: []Step{
		{Kind: KindAsk, Tool: AskTool},
		{Kind: KindAgent, Tool: "IoTAgent", Sub: &Trajectory{Steps: []Step{
			{Kind: KindTool, Tool: "iot.sites"},
			{Kind: KindInvalid, Tool: "iot.sites"},
			{Kind: KindTool, Tool: "iot.assets"},
		}}},
		{Kind: KindInvalid},
		{Kind: KindAgent, Tool: "WOAgent", Error: "invalid arguments"},
		{Kind: KindTool, Tool: "util.current_date_time"},
	}}
	var got []string
	for _, s := range tr.Actions() {
		got = append(got, s.Tool)
	}
	want := []string{AskTool, "iot.sites", "iot.assets", "WOAgent", "util.current_date_time"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Actions (-want +got):\n%s", diff)
	}
}

// A version-1 trajectory reads with its steps as tool calls.
func TestReadVersion1(t *testing.T) {
	var tr Trajectory
	v1 := `{"version":1,"question":"q","agent":"react","steps":[{"agent":"iot","tool":"iot.sites","args":{},"observation":{"sites":["MAIN"]}}],"final_answer":"MAIN","status":"answered","usage":{"calls":2,"prompt_tokens":1,"completion_tokens":1}}`
	if err := json.Unmarshal([]byte(v1), &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Steps) != 1 || tr.Steps[0].Kind != KindTool || len(tr.Actions()) != 1 {
		t.Errorf("steps %+v", tr.Steps)
	}
}
