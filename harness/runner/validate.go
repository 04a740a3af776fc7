package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/scenarios"
)

// ValidateGold checks a scenario against the dataset the tools read: it has
// expectations, a gold trajectory and its descriptive fields; every gold
// step runs through the real tools (so every asset, sensor and window it
// names exists) at the scenario's clock; clarifying questions are answered
// from its clarifications; and the rules judge passes the gold run on all
// six criteria with τ-match 1, so every expected fact is in the gold answer
// and in a tool result. It returns every problem found, joined.
func ValidateGold(ctx context.Context, reg *tools.Registry, s scenarios.Scenario) error {
	var errs []error
	if s.Expect == nil || s.Gold == nil {
		return fmt.Errorf("scenario %s: needs expectations and a gold trajectory", s.ID)
	}
	if s.Type == "" || s.Category == "" || s.CharacteristicForm == "" {
		errs = append(errs, errors.New("lacks a type, category or characteristic form"))
	}
	now, err := s.Clock()
	if err != nil {
		return fmt.Errorf("scenario %s: %w", s.ID, err)
	}
	ctx = tools.WithEnv(ctx, tools.Env{Now: now})
	tr := &trajectory.Trajectory{Version: trajectory.Version, ScenarioID: s.ID, Question: s.Text,
		Status: trajectory.StatusAnswered, FinalAnswer: s.Gold.Answer, Steps: []trajectory.Step{}}
	for i, g := range s.Gold.Steps {
		if g.Tool == trajectory.AskTool {
			var q struct {
				Question string `json:"question"`
			}
			if err := json.Unmarshal(g.Args, &q); err != nil || strings.TrimSpace(q.Question) == "" {
				errs = append(errs, fmt.Errorf("gold step %d: ask_user needs {\"question\": ...}", i+1))
				continue
			}
			if len(s.Clarifications) == 0 {
				errs = append(errs, fmt.Errorf("gold step %d asks the user, but the scenario has no clarifications", i+1))
			}
			obs, _ := json.Marshal(map[string]string{"answer": s.Clarify(q.Question)})
			tr.Steps = append(tr.Steps, trajectory.Step{Kind: trajectory.KindAsk, Agent: "user", Tool: g.Tool, Args: g.Args, Observation: obs})
			continue
		}
		out, err := reg.Call(ctx, g.Tool, g.Args)
		if err != nil {
			errs = append(errs, fmt.Errorf("gold step %d %s: %w", i+1, g.Tool, err))
			continue
		}
		tr.Steps = append(tr.Steps, trajectory.Step{Kind: trajectory.KindTool, Agent: tools.AgentOf(g.Tool), Tool: g.Tool, Args: g.Args, Observation: out})
	}
	if len(errs) == 0 {
		rec, err := Score(s, tr)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !rec.Verdict.Pass:
			errs = append(errs, fmt.Errorf("the gold run fails the rules judge: %s", strings.Join(rec.Verdict.Reasons, "; ")))
		case rec.Tau == nil || *rec.Tau != 1:
			errs = append(errs, fmt.Errorf("the gold run has τ-match %v, want 1", rec.Tau))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("scenario %s: %w", s.ID, errors.Join(errs...))
	}
	return nil
}
