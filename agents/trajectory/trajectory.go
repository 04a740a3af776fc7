// Package trajectory is the versioned record of one agent run: the steps it
// took, what each tool returned and the final answer.
package trajectory

import "encoding/json"

// Version of the trajectory JSON written by this package.
const Version = 1

// Status says how a run ended.
const (
	StatusAnswered  = "answered"   // the agent gave a final answer
	StatusStepLimit = "step_limit" // the agent ran out of steps
	StatusError     = "error"      // the model could not be reached or failed
)

// Trajectory is one run of an agent on one question.
type Trajectory struct {
	Version     int    `json:"version"`
	ScenarioID  string `json:"scenario_id"`
	Question    string `json:"question"`
	Model       string `json:"model"`
	Agent       string `json:"agent"`
	Steps       []Step `json:"steps"`
	FinalAnswer string `json:"final_answer"`
	Status      string `json:"status"`
	Error       string `json:"error,omitempty"`
	Usage       Usage  `json:"usage"`
}

// Step is one tool call and what came back.
type Step struct {
	Thought string          `json:"thought,omitempty"`
	Agent   string          `json:"agent"`
	Tool    string          `json:"tool"`
	Args    json.RawMessage `json:"args"`
	// Observation is the tool's JSON result, or {"error": "..."}.
	Observation json.RawMessage `json:"observation"`
	Error       string          `json:"error,omitempty"`
}

// OK reports whether the tool call succeeded.
func (s Step) OK() bool { return s.Error == "" }

// Usage counts model calls and tokens.
type Usage struct {
	Calls            int `json:"calls"`
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}
