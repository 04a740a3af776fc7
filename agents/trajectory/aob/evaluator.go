package aob

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/assetops/assetops/agents/trajectory"
)

// evalDoc is a trajectory the newer evaluator persists for its judge.
type evalDoc struct {
	RunID      text            `json:"run_id"`
	ScenarioID text            `json:"scenario_id"`
	Runner     text            `json:"runner"`
	Model      text            `json:"model"`
	Question   text            `json:"question"`
	Answer     text            `json:"answer"`
	Trajectory json.RawMessage `json:"trajectory"`
}

type evalTurn struct {
	Text         text        `json:"text"`
	ToolCalls    []evalCall  `json:"tool_calls"`
	InputTokens  json.Number `json:"input_tokens"`
	OutputTokens json.Number `json:"output_tokens"`
}

// evalCall is one tool call of a turn; measurement records write the same
// call with "arguments" and "server" and an "error".
type evalCall struct {
	Name      text            `json:"name"`
	Server    text            `json:"server"`
	Input     json.RawMessage `json:"input"`
	Arguments json.RawMessage `json:"arguments"`
	Output    json.RawMessage `json:"output"`
	Error     json.RawMessage `json:"error"`
}

func importEvaluator(data []byte) (*trajectory.Trajectory, error) {
	var doc evalDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var turns []evalTurn
	switch jsonKind(doc.Trajectory) {
	case '{':
		var t struct {
			Turns []evalTurn `json:"turns"`
		}
		if err := json.Unmarshal(doc.Trajectory, &t); err != nil {
			return nil, fmt.Errorf("trajectory: %w", err)
		}
		turns = t.Turns
	case '[':
		// A bare list of turns.
		if err := json.Unmarshal(doc.Trajectory, &turns); err != nil {
			return nil, fmt.Errorf("trajectory: %w", err)
		}
	case 0, 'n':
	default:
		return nil, fmt.Errorf("trajectory is %s, want an object with turns", describe(doc.Trajectory))
	}
	tr := &trajectory.Trajectory{
		Version:     trajectory.Version,
		ScenarioID:  string(doc.ScenarioID),
		Question:    strings.TrimSpace(string(doc.Question)),
		Model:       string(doc.Model),
		Agent:       string(doc.Runner),
		Protocol:    trajectory.ProtocolNative,
		Steps:       []trajectory.Step{},
		FinalAnswer: string(doc.Answer),
	}
	// Text the model wrote in a turn without tool calls is the reasoning
	// behind the next calls; the last turn's text is the answer.
	var pending []string
	for i, turn := range turns {
		in, ok1 := toInt(turn.InputTokens)
		out, ok2 := toInt(turn.OutputTokens)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("trajectory.turns[%d]: token counts are not integers", i)
		}
		// Per-turn usage is left off the steps: GLM turns carry the counts of
		// other requests and Codex puts the whole run's on its last turn.
		tr.Usage.PromptTokens += in
		tr.Usage.CompletionTokens += out
		tr.Usage.Calls++ // turns as the evaluator counts them (its ops.turn_count)
		if t := strings.TrimSpace(string(turn.Text)); t != "" {
			pending = append(pending, t)
		}
		if len(turn.ToolCalls) == 0 {
			continue
		}
		thought := strings.Join(pending, "\n\n")
		pending = nil
		for j, c := range turn.ToolCalls {
			st, err := c.step()
			if err != nil {
				return nil, fmt.Errorf("trajectory.turns[%d].tool_calls[%d]: %w", i, j, err)
			}
			st.Thought = thought
			tr.Steps = append(tr.Steps, st)
		}
	}
	if strings.TrimSpace(tr.FinalAnswer) == "" && len(turns) > 0 && len(turns[len(turns)-1].ToolCalls) == 0 {
		tr.FinalAnswer = strings.TrimSpace(string(turns[len(turns)-1].Text))
	}
	tr.Status = trajectory.StatusAnswered
	if strings.TrimSpace(tr.FinalAnswer) == "" {
		tr.Status, tr.Error = trajectory.StatusError, "the record has no answer"
	}
	return tr, nil
}

func (c *evalCall) step() (trajectory.Step, error) {
	st := trajectory.Step{Kind: trajectory.KindTool, Tool: qualify(string(c.Name), string(c.Server))}
	st.Agent = agentOf(st.Tool)
	raw := c.Input
	if jsonKind(raw) == 0 || jsonKind(raw) == 'n' {
		raw = c.Arguments
	}
	var err error
	if st.Args, err = args(raw); err != nil {
		return st, fmt.Errorf("arguments: %w", err)
	}
	var failed string
	if st.Observation, failed, err = output(c.Output); err != nil {
		return st, fmt.Errorf("output: %w", err)
	}
	recorded, err := recordedError(c.Error)
	if err != nil {
		return st, err
	}
	st.Error = failed
	if recorded != "" {
		st.Error = recorded
	}
	// Keep the reason where our own failed calls keep it, when the harness
	// dropped the output.
	if st.Error != "" && string(st.Observation) == "null" {
		if st.Observation, err = encode(map[string]any{"error": st.Error}); err != nil {
			return st, err
		}
	}
	return st, nil
}
