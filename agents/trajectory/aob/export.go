package aob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/assetops/assetops/agents/trajectory"
)

// maxDepth bounds the nesting of sub-agent runs Export follows, so that a
// trajectory whose runs refer to each other is an error, not a hang.
const maxDepth = 32

// exportDoc is the ReActXen export: task, trajectory and final_answer are
// what the original's consumers read; the other keys let Import read our
// runs back.
type exportDoc struct {
	ID          string       `json:"id,omitempty"`
	Task        string       `json:"task"`
	Model       string       `json:"model,omitempty"`
	Agent       string       `json:"agent,omitempty"`
	Protocol    string       `json:"protocol,omitempty"`
	Trajectory  []exportStep `json:"trajectory"`
	FinalAnswer string       `json:"final_answer"`
	Status      string       `json:"status,omitempty"`
	Error       string       `json:"error,omitempty"`
	Reviews     []string     `json:"reviews,omitempty"`
	Info        exportInfo   `json:"info"`
}

type exportStep struct {
	Thought     string `json:"thought"`
	Action      string `json:"action"`
	Observation string `json:"observation"`
	Kind        string `json:"kind,omitempty"` // left off for tool calls
	Agent       string `json:"agent,omitempty"`
	Error       string `json:"error,omitempty"`
	PlanStep    int    `json:"plan_step,omitempty"`
}

// exportInfo is ReActXen's usage record.
type exportInfo struct {
	ModelStats struct {
		TokensSent     int `json:"tokens_sent"`
		TokensReceived int `json:"tokens_received"`
		APICalls       int `json:"api_calls"`
	} `json:"model_stats"`
}

// Export writes tr in the original's ReActXen shape (see the package
// comment), indented, with raw UTF-8 and a trailing newline as the
// original's files. The calls of domain agents replace the step that called
// them, in order, so the original's consumers see the actual tool calls; the
// calling step's thought leads the first of them.
func Export(tr *trajectory.Trajectory) ([]byte, error) {
	if tr == nil {
		return nil, errors.New("export: no trajectory")
	}
	doc := exportDoc{
		ID:          tr.ScenarioID,
		Task:        tr.Question,
		Model:       tr.Model,
		Agent:       tr.Agent,
		Protocol:    tr.Protocol,
		Trajectory:  []exportStep{},
		FinalAnswer: tr.FinalAnswer,
		Status:      tr.Status,
		Error:       tr.Error,
	}
	if err := flatten(&doc.Trajectory, tr, "", 0, 0); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if tr.FinalAnswer != "" {
		doc.Trajectory = append(doc.Trajectory, exportStep{Action: actionString(finishAction, tr.FinalAnswer)})
	}
	for _, r := range tr.Reviews {
		doc.Reviews = append(doc.Reviews, reviewString(r))
	}
	doc.Info.ModelStats.TokensSent = tr.Usage.PromptTokens
	doc.Info.ModelStats.TokensReceived = tr.Usage.CompletionTokens
	doc.Info.ModelStats.APICalls = tr.Usage.Calls

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return buf.Bytes(), nil
}

// flatten appends the steps of tr, with the runs of domain agents in place of
// the steps that called them; lead is the thought of the calling step and
// planStep the plan step it carried out.
func flatten(out *[]exportStep, tr *trajectory.Trajectory, lead string, planStep, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("sub-agent runs nested deeper than %d", maxDepth)
	}
	for i, s := range tr.Steps {
		if s.Kind == trajectory.KindAgent && s.Sub != nil {
			before := len(*out)
			n := s.PlanStep
			if n == 0 {
				n = planStep
			}
			if err := flatten(out, s.Sub, join(lead, s.Thought), n, depth+1); err != nil {
				return err
			}
			// The lead is spent once a step of the sub-run took it.
			if len(*out) > before {
				lead = ""
			}
			continue
		}
		e, err := exportOne(s)
		if err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.Tool, err)
		}
		e.Thought = join(lead, e.Thought)
		if e.PlanStep == 0 {
			e.PlanStep = planStep
		}
		lead = ""
		*out = append(*out, e)
	}
	return nil
}

func exportOne(s trajectory.Step) (exportStep, error) {
	param, err := plain(s.Args, "{}")
	if err != nil {
		return exportStep{}, fmt.Errorf("args: %w", err)
	}
	obs, err := plain(s.Observation, "")
	if err != nil {
		return exportStep{}, fmt.Errorf("observation: %w", err)
	}
	tool := s.Tool
	if s.Kind == trajectory.KindAsk {
		// ReActXen's Agent-Ask takes the question as text and gets the
		// answer as text.
		tool = askAction
		if q, ok := only(s.Args, "question"); ok {
			param = q
		}
		if a, ok := only(s.Observation, "answer"); ok {
			obs = a
		}
	}
	e := exportStep{
		Thought:     s.Thought,
		Action:      actionString(tool, param),
		Observation: obs,
		Agent:       s.Agent,
		Error:       s.Error,
		PlanStep:    s.PlanStep,
	}
	if s.Kind != trajectory.KindTool && s.Kind != "" {
		e.Kind = s.Kind
	}
	return e, nil
}

// plain writes a JSON value as ReActXen writes tool inputs and observations:
// a string as its text, anything else as compact JSON.
func plain(raw json.RawMessage, empty string) (string, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return empty, nil
	}
	if s, ok := decodeString(raw); ok {
		return s, nil
	}
	c, err := canonical(raw)
	if err != nil {
		return "", err
	}
	return string(c), nil
}

// only returns the string value of key when it is the object's one key.
func only(raw json.RawMessage, key string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) != 1 {
		return "", false
	}
	return decodeString(m[key])
}

func join(a, b string) string {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}
