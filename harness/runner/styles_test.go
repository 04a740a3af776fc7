package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/system"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/harness/cassette"
	"github.com/assetops/assetops/harness/sim"
	"github.com/google/go-cmp/cmp"
)

// Every orchestrator, on either protocol, with and without the review pass,
// follows the oracle to the gold answer on every scenario; and the run
// replays from its recording to the same result, parallel plan steps
// included.
func TestStylesReachGold(t *testing.T) {
	ctx := context.Background()
	ss := embedded(t)
	live := simModel(t, sim.Policies(ss))
	for _, style := range system.Styles {
		for _, model := range []string{"oracle", "oracle-text"} {
			for _, review := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/review=%v", style, model, review), func(t *testing.T) {
					r, store := recording(t, live)
					r.Model, r.Style, r.Review, r.Ask = model, style, review, true
					run, err := r.Run(ctx, ss)
					if err != nil {
						t.Fatal(err)
					}
					wantProtocol := trajectory.ProtocolNative
					if model == "oracle-text" {
						wantProtocol = trajectory.ProtocolText
					}
					if run.Protocol != wantProtocol {
						t.Errorf("protocol %s, want %s", run.Protocol, wantProtocol)
					}
					for _, rec := range run.Records {
						if rec.Verdict == nil || !rec.Verdict.Pass || rec.Tau == nil || *rec.Tau != 1 {
							t.Errorf("%s: pass %v, τ %v, reasons %q, answer %q", rec.ScenarioID, rec.Verdict.Pass, *rec.Tau, rec.Verdict.Reasons, rec.Trajectory.FinalAnswer)
						}
					}
					rep, _ := cassette.NewRecorder(store, nil, cassette.Replay)
					r.Recorder = rep
					replayed, err := r.Run(ctx, ss)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(run, replayed); diff != "" {
						t.Errorf("replay differs (-recorded +replayed):\n%s", diff)
					}
				})
			}
		}
	}
}

// With asking off, the scenario that needs a clarification fails in every
// style — the oracle says what it lacks, as an honest agent would — and the
// others still pass: the difference --ask on|off measures.
func TestAskOff(t *testing.T) {
	ctx := context.Background()
	ss := embedded(t)
	live := simModel(t, sim.Policies(ss))
	for _, style := range system.Styles {
		t.Run(style, func(t *testing.T) {
			r, _ := recording(t, live)
			r.Style, r.Ask = style, false
			run, err := r.Run(ctx, ss)
			if err != nil {
				t.Fatal(err)
			}
			for i, rec := range run.Records {
				needsAsk := len(ss[i].Clarifications) > 0
				if rec.Verdict.Pass == needsAsk {
					t.Errorf("%s: pass %v with asking off; answer %q", rec.ScenarioID, rec.Verdict.Pass, rec.Trajectory.FinalAnswer)
				}
				for _, st := range rec.Trajectory.Actions() {
					if st.Tool == trajectory.AskTool {
						t.Errorf("%s: asked the user with asking off", rec.ScenarioID)
					}
				}
			}
		})
	}
}

// Distractor agents are offered and the order shift rotates what is offered;
// the oracle, which never calls a distractor, still passes everything.
func TestDistractorsAndOrderShift(t *testing.T) {
	ctx := context.Background()
	ss := embedded(t)
	live := simModel(t, sim.Policies(ss))
	for _, style := range system.Styles {
		t.Run(style, func(t *testing.T) {
			r, store := recording(t, live)
			r.Style, r.Distractors, r.OrderShift = style, true, 4
			run, err := r.Run(ctx, ss)
			if err != nil {
				t.Fatal(err)
			}
			if run.Setup() != style+", native, distractors, shift 4" {
				t.Errorf("setup %q", run.Setup())
			}
			for _, rec := range run.Records {
				if !rec.Verdict.Pass {
					t.Errorf("%s: %q", rec.ScenarioID, rec.Verdict.Reasons)
				}
			}
			// The first request of the first scenario shows what was offered.
			entries, _ := store.All()
			var first *cassette.Entry
			for i, e := range entries {
				if e.Kind == "chat" && e.Scenario == ss[0].ID && e.Call == 1 && e.Lane == "" {
					first = &entries[i]
				}
			}
			if first == nil {
				t.Fatal("no first chat recorded")
			}
			var req llm.ChatRequest
			if err := json.Unmarshal(first.Request, &req); err != nil {
				t.Fatal(err)
			}
			offered := req.Messages[0].Content // plan-execute lists agents in its prompt
			for _, tool := range req.Tools {
				offered += " " + tool.Function.Name
			}
			if !strings.Contains(offered, "HRPolicyAgent") || !strings.Contains(offered, "RULPredictor") {
				t.Errorf("distractors not offered: %s", offered)
			}
			if style != "plan-execute" {
				var names []string
				for _, tool := range req.Tools {
					names = append(names, tool.Function.Name)
				}
				if names[0] == "fmsr.generate_failure_mode_sensor_mapping" || names[0] == "IoTAgent" {
					t.Errorf("tools not rotated: %v", names[:3])
				}
			}
		})
	}
}

// Policies that answer without tools, loop, call unknown tools, make
// malformed calls or stop early give, in every style and on both protocols,
// the trajectories one would expect — never a harness error.
func TestFaultyPolicies(t *testing.T) {
	ctx := context.Background()
	ss := embedded(t)
	oracle := sim.NewOracle(ss)
	policies := map[string]sim.Policy{}
	for _, f := range sim.Faults {
		policies[f] = sim.Faulty(oracle, f)
		policies[f+"-text"] = sim.TextOnly(sim.Faulty(oracle, f))
	}
	live := simModel(t, policies)

	// recovers: the fault costs a step but the run still passes.
	recovers := map[string]bool{sim.FaultUnknownTool: true, sim.FaultMalformed: true}
	for _, style := range system.Styles {
		for _, fault := range sim.Faults {
			for _, suffix := range []string{"", "-text"} {
				model := fault + suffix
				t.Run(style+"/"+model, func(t *testing.T) {
					r, _ := recording(t, live)
					r.Model, r.Style = model, style
					run, err := r.Run(ctx, ss)
					if err != nil {
						t.Fatalf("harness error: %v", err)
					}
					for _, rec := range run.Records {
						tr := rec.Trajectory
						if rec.Verdict.Pass != recovers[fault] {
							t.Errorf("%s: pass %v, status %s, answer %q", rec.ScenarioID, rec.Verdict.Pass, tr.Status, tr.FinalAnswer)
						}
						if got, want := tr.Status, wantStatus(style, fault); got != want {
							t.Errorf("%s: status %s, want %s (%s)", rec.ScenarioID, got, want, tr.Error)
						}
						if style == trajectory.StylePlanExecute {
							switch fault {
							case sim.FaultNoop:
								if len(tr.Plans) != 3 || tr.Plans[2].Error == "" || !strings.Contains(tr.Error, "no usable plan") {
									t.Errorf("%s: %d plans, error %q; want three unusable plans", rec.ScenarioID, len(tr.Plans), tr.Error)
								}
							case sim.FaultLoop:
								for _, st := range tr.Steps {
									if st.Sub != nil && st.Sub.Status != trajectory.StatusLoop {
										t.Errorf("%s: plan step %d ended %s, want loop", rec.ScenarioID, st.PlanStep, st.Sub.Status)
									}
								}
							}
						}
						if recovers[fault] && !hasFailedStep(tr) {
							t.Errorf("%s: no failed step recorded for the %s fault", rec.ScenarioID, fault)
						}
					}
				})
			}
		}
	}
}

func wantStatus(style, fault string) string {
	switch {
	case fault == sim.FaultNoop && style == trajectory.StylePlanExecute:
		return trajectory.StatusError // no plan could be read
	case fault == sim.FaultLoop && style != trajectory.StylePlanExecute:
		return trajectory.StatusLoop
	}
	return trajectory.StatusAnswered
}

func hasFailedStep(tr *trajectory.Trajectory) bool {
	for _, s := range tr.Steps {
		if !s.OK() || (s.Sub != nil && hasFailedStep(s.Sub)) {
			return true
		}
	}
	return false
}
