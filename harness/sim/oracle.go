package sim

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/assetops/assetops/scenarios"
	"github.com/ollama/ollama/api"
)

// Oracle plays each scenario's gold trajectory: one gold tool call a turn,
// then the gold answer. It finds the scenario by the conversation's first
// user message, which must be the scenario text.
type Oracle struct {
	byText map[string]scenarios.Scenario
	digest string
}

// NewOracle returns an oracle over the scenarios that have a gold trajectory.
func NewOracle(ss []scenarios.Scenario) *Oracle {
	o := &Oracle{byText: map[string]scenarios.Scenario{}}
	var golds []any
	for _, s := range ss {
		if s.Gold == nil {
			continue
		}
		o.byText[strings.TrimSpace(s.Text)] = s
		golds = append(golds, []any{s.ID, s.Text, s.Gold})
	}
	o.digest = fingerprint(golds)
	return o
}

// Fingerprint is a digest of the gold trajectories played.
func (o *Oracle) Fingerprint() string { return o.digest }

// Reply gives the next gold step. A question it has no script for gets a
// plain answer saying so, as a model without knowledge would give.
func (o *Oracle) Reply(req *api.ChatRequest) (api.Message, error) {
	question, turns := "", 0
	for _, m := range req.Messages {
		switch {
		case m.Role == "user" && question == "":
			question = m.Content
		case m.Role == "assistant" && len(m.ToolCalls) > 0:
			turns++
		}
	}
	s, ok := o.byText[strings.TrimSpace(question)]
	if !ok {
		return api.Message{Content: "I have no reference trajectory for this request."}, nil
	}
	if turns >= len(s.Gold.Steps) {
		return api.Message{Content: s.Gold.Answer}, nil
	}
	step := s.Gold.Steps[turns]
	if !offered(req.Tools, step.Tool) {
		return api.Message{Content: fmt.Sprintf("I cannot answer: the tool %s is not available.", step.Tool)}, nil
	}
	args := api.NewToolCallFunctionArguments()
	if len(step.Args) > 0 {
		if err := json.Unmarshal(step.Args, &args); err != nil {
			return api.Message{}, fmt.Errorf("scenario %s step %d: arguments: %w", s.ID, turns+1, err)
		}
	}
	return api.Message{
		Content: step.Thought,
		ToolCalls: []api.ToolCall{{
			ID:       fmt.Sprintf("call_%s_%d", s.ID, turns+1),
			Function: api.ToolCallFunction{Index: 0, Name: step.Tool, Arguments: args},
		}},
	}, nil
}

func offered(tools api.Tools, name string) bool {
	for _, t := range tools {
		if t.Function.Name == name {
			return true
		}
	}
	return false
}
