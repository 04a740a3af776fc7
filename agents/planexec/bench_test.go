package planexec_test

import (
	"context"
	"errors"
	"testing"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/planexec"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/agents/trajectory"
)

// instantModel answers at once and keeps nothing: the planner with a fixed
// plan, domain agents with a final answer, the summariser with a sentence.
type instantModel struct{ plan string }

func (m instantModel) Chat(_ context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	content := "done"
	switch roleOf(req) {
	case rolePlanner:
		content = m.plan
	case roleReviewer:
		content = `{"status": "valid"}`
	case roleSummary:
		content = "The answer."
	}
	return &llm.ChatResponse{Message: llm.Message{Role: "assistant", Content: content}, Done: true}, nil
}

func (instantModel) Embed(context.Context, *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	return nil, errors.New("no embeddings")
}

func (instantModel) Show(context.Context, string) (*llm.ModelInfo, error) {
	return &llm.ModelInfo{}, nil
}

// BenchmarkPlanExecute measures the orchestration overhead of a 4-step plan
// (two independent steps, one needing both, one needing that) with a
// zero-latency model and agents without tools.
func BenchmarkPlanExecute(b *testing.B) {
	const nSteps = 4
	plan := planexec.FormatPlan([]trajectory.PlanStep{
		step(1, "iot", "List the assets at MAIN"),
		step(2, "wo", "List the work orders of Chiller 6"),
		step(3, "iot", "Find the assets with work orders", 1, 2),
		step(4, "wo", "Summarise their work orders", 3),
	})
	var agents []planexec.Agent
	for _, name := range []string{"iot", "wo"} {
		agents = append(agents, planexec.Agent{Name: name, Title: name, Description: name,
			Runner: &react.Agent{Name: name, ModelName: "instant", System: "You are the " + name + " agent."}})
	}
	o := &planexec.Orchestrator{Model: instantModel{plan: plan}, ModelName: "instant", Agents: agents}
	ctx := context.Background()
	b.ReportAllocs()
	runs := 0
	for b.Loop() {
		tr, err := o.Run(ctx, "bench", "Which assets at MAIN have work orders?")
		if err != nil || tr.Status != trajectory.StatusAnswered || len(tr.Steps) != nSteps {
			b.Fatalf("run: err %v, status %s, %d steps", err, tr.Status, len(tr.Steps))
		}
		runs++
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(runs*nSteps)/s, "steps/s")
	}
}
