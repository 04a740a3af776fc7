package system

import (
	"context"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/planexec"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/google/go-cmp/cmp"
)

type asker struct{}

func (asker) Answer(context.Context, string) string { return "yes" }

// nullModel is never called: these tests only build.
type nullModel struct{ llm.Model }

func offered(a *react.Agent) []string {
	var names []string
	for _, act := range a.Actions {
		names = append(names, act.Spec().Function.Name)
	}
	return names
}

func TestNew(t *testing.T) {
	reg := agentstest.Registry(t)
	base := Config{Model: nullModel{}, ModelName: "m", Tools: reg}

	cfg := base
	cfg.Style = trajectory.StyleToolAsAgent
	cfg.Ask = asker{}
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"IoTAgent", "FMSRAgent", "TSFMAgent", "WOAgent", "util.current_date_time", "util.json_reader", "ask_user"}
	if diff := cmp.Diff(want, offered(o.(*react.Agent))); diff != "" {
		t.Errorf("tool-as-agent offers (-want +got):\n%s", diff)
	}
	cfg.Distractors, cfg.OrderShift = true, 2
	o, _ = New(cfg)
	got := offered(o.(*react.Agent))
	distractors := 0
	for _, n := range got {
		if IsDistractor(n) {
			distractors++
		}
	}
	if len(got) != len(want)+10 || distractors != 10 || got[0] != "TSFMAgent" || got[len(got)-1] != "FMSRAgent" {
		t.Errorf("with distractors and a shift of 2: %v", got)
	}

	cfg = base
	o, _ = New(cfg)
	if got := offered(o.(*react.Agent)); len(got) != len(reg.Tools()) || strings.Contains(strings.Join(got, " "), "ask_user") {
		t.Errorf("react offers %d actions %v, want every tool and no ask_user", len(got), got)
	}

	cfg.Style = trajectory.StylePlanExecute
	cfg.Protocol = trajectory.ProtocolText
	o, _ = New(cfg)
	pe := o.(*planexec.Orchestrator)
	var names []string
	for _, a := range pe.Agents {
		names = append(names, a.Name)
		for _, act := range a.Runner.Actions {
			if tool := act.Spec().Function.Name; !strings.HasPrefix(tool, a.Name+".") && !strings.HasPrefix(tool, "util.") {
				t.Errorf("agent %s offers %s", a.Name, tool)
			}
		}
		if a.Runner.Protocol != trajectory.ProtocolText {
			t.Errorf("agent %s protocol %q", a.Name, a.Runner.Protocol)
		}
	}
	if diff := cmp.Diff([]string{"iot", "fmsr", "tsfm", "wo"}, names); diff != "" {
		t.Errorf("plan-execute agents (-want +got):\n%s", diff)
	}

	for _, bad := range []Config{
		{Style: "swarm", Model: nullModel{}, Tools: reg},
		{Protocol: "xml", Model: nullModel{}, Tools: reg},
		{Tools: reg},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

func TestSubset(t *testing.T) {
	reg := agentstest.Registry(t)
	got, err := Subset(reg, []string{"iot", "util.json_reader", "iot.history"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Tools()); n != 8 {
		t.Errorf("%d tools, want the 7 iot tools and util.json_reader", n)
	}
	if _, err := Subset(reg, []string{"iot", "iot.nope"}); err == nil || !strings.Contains(err.Error(), `"iot.nope"`) {
		t.Errorf("err = %v, want it to name the unknown tool", err)
	}
}
