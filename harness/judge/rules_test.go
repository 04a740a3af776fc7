package judge

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/scenarios"
	"github.com/google/go-cmp/cmp"
)

func scenario(t *testing.T, id string) scenarios.Scenario {
	t.Helper()
	ss, err := scenarios.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	sel, err := scenarios.Select(ss, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	return sel[0]
}

// play runs tool calls through the real tools, as an agent would.
func play(t *testing.T, calls [][2]string, answer string) *trajectory.Trajectory {
	t.Helper()
	reg := agentstest.Registry(t)
	tr := &trajectory.Trajectory{Status: trajectory.StatusAnswered, FinalAnswer: answer}
	for _, c := range calls {
		st := trajectory.Step{Agent: tools.AgentOf(c[0]), Tool: c[0], Args: json.RawMessage(c[1])}
		out, err := reg.Call(context.Background(), c[0], st.Args)
		if err != nil {
			st.Error = err.Error()
			out, _ = json.Marshal(map[string]string{"error": st.Error})
		}
		st.Observation = out
		tr.Steps = append(tr.Steps, st)
	}
	return tr
}

const (
	goldArgs  = `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-03T14:00:00","end":"2020-06-03T15:00:00","sensors":["Chiller Efficiency"]}`
	goldReply = "Chiller 9 has 4 readings; the highest is 0.625 kW/ton."
)

func TestRules(t *testing.T) {
	iot := scenario(t, "iot-01")
	all := Criteria{true, true, true, true, true, false}
	tests := []struct {
		name    string
		tr      *trajectory.Trajectory
		want    Criteria
		reasons []string // substrings, one per expected reason
	}{
		{
			name: "gold passes",
			tr:   play(t, [][2]string{{"iot.history", goldArgs}}, goldReply),
			want: all,
		},
		{
			name: "same call, other spelling of times and asset",
			tr: play(t, [][2]string{{"iot.history",
				`{"site_name":"main","asset_id":"chiller 9","start":"2020-06-03 14:00","end":"2020-06-03T15:00:00Z"}`}}, goldReply),
			want: all,
		},
		{
			name: "ran out of steps",
			tr: func() *trajectory.Trajectory {
				tr := play(t, [][2]string{{"iot.history", goldArgs}}, "")
				tr.Status = trajectory.StatusStepLimit
				return tr
			}(),
			want:    Criteria{false, true, false, true, false, false},
			reasons: []string{"task_completion: no final answer", "number of readings", "highest efficiency", "clarity_and_justification: no final answer"},
		},
		{
			name: "wrong asset",
			tr: play(t, [][2]string{{"iot.history",
				`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-03T14:00:00","end":"2020-06-03T15:00:00"}`}}, goldReply),
			want:    Criteria{true, false, true, true, false, false},
			reasons: []string{"data_retrieval_accuracy: no successful iot.history call with asset_id=Chiller 9", "highest efficiency (0.625 ± 0.0005) is stated but no tool result shows it"},
		},
		{
			name:    "wrong number in the answer",
			tr:      play(t, [][2]string{{"iot.history", goldArgs}}, "Chiller 9 has 4 readings; the highest is 0.62 kW/ton."),
			want:    Criteria{true, true, false, true, true, false},
			reasons: []string{"generalized_result_verification: answer lacks highest efficiency"},
		},
		{
			name:    "forbidden claim",
			tr:      play(t, [][2]string{{"iot.history", goldArgs}}, goldReply+" Earlier data is not available."),
			want:    Criteria{true, true, true, true, true, true},
			reasons: []string{`hallucinations: answer claims "not available"`},
		},
		{
			name:    "answer without looking",
			tr:      play(t, nil, goldReply),
			want:    Criteria{false, false, true, false, false, true},
			reasons: []string{"never called", "data_retrieval", "agent_sequence", "4", "0.625", "answered without any successful tool call"},
		},
		{
			name:    "every call failed",
			tr:      play(t, [][2]string{{"iot.history", `{"site_name":"MAIN","asset_id":"Chiller 99","start":"2020-06-03","end":"2020-06-04"}`}}, goldReply),
			want:    Criteria{false, false, true, false, false, true},
			reasons: []string{"never called successfully", "data_retrieval", "agent_sequence", "4", "0.625", "answered without any successful tool call"},
		},
		{
			name:    "protocol markup",
			tr:      play(t, [][2]string{{"iot.history", goldArgs}}, goldReply+` <tool_call>{"name":"x"}</tool_call>`),
			want:    Criteria{true, true, true, true, false, false},
			reasons: []string{`markup "<tool_call>"`, `markup "</tool_call>"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Rules(iot, tt.tr)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, v.Criteria); diff != "" {
				t.Errorf("criteria (-want +got):\n%s\nreasons: %q", diff, v.Reasons)
			}
			if v.Pass != tt.want.Pass() {
				t.Errorf("pass = %v", v.Pass)
			}
			if len(v.Reasons) != len(tt.reasons) {
				t.Fatalf("reasons %q, want %d like %q", v.Reasons, len(tt.reasons), tt.reasons)
			}
			for i, r := range tt.reasons {
				if !strings.Contains(v.Reasons[i], r) {
					t.Errorf("reason %d = %q, want it to contain %q", i, v.Reasons[i], r)
				}
			}
		})
	}
}

func TestRulesOrder(t *testing.T) {
	s := scenarios.Scenario{ID: "two", Text: "q", Expect: &scenarios.Expectations{
		Calls: []scenarios.ExpectedCall{{Tool: "iot.sites"}, {Tool: "iot.assets", Args: map[string]any{"site_name": "MAIN"}}},
	}}
	inOrder := play(t, [][2]string{{"iot.sites", `{}`}, {"iot.sensors", `{"site_name":"MAIN","asset_id":"Chiller 6"}`}, {"iot.assets", `{"site_name":"MAIN"}`}}, "ok")
	reversed := play(t, [][2]string{{"iot.assets", `{"site_name":"MAIN"}`}, {"iot.sites", `{}`}}, "ok")
	if v, _ := Rules(s, inOrder); !v.Criteria.AgentSequenceCorrect {
		t.Errorf("in order with a call between: %q", v.Reasons)
	}
	if v, _ := Rules(s, reversed); v.Criteria.AgentSequenceCorrect || !v.Criteria.DataRetrievalAccuracy {
		t.Errorf("reversed: sequence %v, data %v; want false, true", v.Criteria.AgentSequenceCorrect, v.Criteria.DataRetrievalAccuracy)
	}
}

func TestRulesNeedsExpectations(t *testing.T) {
	_, err := Rules(scenarios.Scenario{ID: "1", Text: "What IoT sites are available?"}, &trajectory.Trajectory{})
	if !errors.Is(err, ErrNoExpectations) {
		t.Errorf("err = %v, want ErrNoExpectations", err)
	}
}

func TestNumbers(t *testing.T) {
	got := Numbers("1,234.5 tons and -3 °F on 2020-06-03, 0.714kW; x-2 and 12,34")
	want := []float64{1234.5, -3, 2020, 6, 3, 0.714, 2, 12, 34}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Numbers (-want +got):\n%s", diff)
	}
}
