package taumatch

import (
	"encoding/json"
	"math"
	"testing"
)

func step(tool, args string) Step {
	agent := tool[:3]
	if tool[:2] == "wo" {
		agent = "wo"
	}
	return Step{Agent: agent, Tool: tool, Args: json.RawMessage(args)}
}

var gold = []Step{
	step("iot.sensors", `{"site_name":"MAIN","asset_id":"Chiller 9"}`),
	step("iot.history", `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-03T14:00:00","end":"2020-06-03T15:00:00"}`),
	step("wo.get_work_orders", `{"equipment_id":"CWC04009"}`),
}

func TestScore(t *testing.T) {
	extra := step("tsfm.get_tsfm_models", `{}`)
	tests := []struct {
		name     string
		run, gld []Step
		want     float64
	}{
		{"both empty", nil, nil, 1},
		{"identical", gold, gold, 1},
		{"disjoint", []Step{extra, extra}, gold, 0},
		{"nothing done", nil, gold, 0},
		{"steps where none were wanted", gold, nil, 0},
		{"missing the last step", gold[:2], gold, 2.0 / 3},
		{"one extra step", append(append([]Step{}, gold...), extra), gold, 3 / 3.5},
		{"same tools, half the arguments wrong", []Step{gold[0],
			step("iot.history", `{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-04","end":"2020-06-03T15:00:00"}`), gold[2]}, gold, (1 + 0.5 + 0.5*0.5 + 1) / 3},
		{"right agent, wrong tool", []Step{step("iot.assets", `{"site_name":"MAIN"}`)}, gold[:1], 0.25},
		{"out of order keeps the longest ordered match", []Step{gold[2], gold[0], gold[1]}, gold, 2 / (3 + 0.5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Score(tt.run, tt.gld); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Score = %.4f, want %.4f", got, tt.want)
			}
		})
	}
}

// An extra irrelevant step must cost less than a missing one, wherever it is.
func TestExtraCostsLessThanMissing(t *testing.T) {
	extra := step("tsfm.get_tsfm_models", `{}`)
	for i := range gold {
		missing := append(append([]Step{}, gold[:i]...), gold[i+1:]...)
		withExtra := append(append(append([]Step{}, gold[:i]...), extra), gold[i:]...)
		m, e := Score(missing, gold), Score(withExtra, gold)
		if !(m < e && e < 1) {
			t.Errorf("position %d: missing %.3f, extra %.3f; want missing < extra < 1", i, m, e)
		}
	}
}

func BenchmarkScore(b *testing.B) {
	var run, g []Step
	for range 10 {
		run = append(run, gold...)
		g = append(g, gold...)
	}
	for b.Loop() {
		Score(run, g)
	}
}
