// Package trajectory is the versioned record of one agent run: the plans it
// made and their reviews, the steps it took (tool calls, domain-agent calls
// with their own nested runs, clarifying questions, actions the harness could
// not run), what each returned, and the final answer.
//
// Everything in a trajectory comes from the model's replies and the tools'
// results, never from the wall clock, so a replayed run writes the same bytes
// as its recording: model durations are the ones the server reported.
package trajectory

import "encoding/json"

// Version of the trajectory JSON written by this package. Version 1 had no
// step kinds, plans, reviews or nested runs; it reads as version 2.
const Version = 2

// Orchestration styles, the Agent of a top-level trajectory.
const (
	StyleReAct       = "react"         // one ReAct agent over every tool
	StyleToolAsAgent = "tool-as-agent" // a ReAct meta-agent whose tools are domain agents
	StylePlanExecute = "plan-execute"  // plan, review, run the plan as a DAG, summarise
)

// Protocols: how tool calls travel between model and agent.
const (
	ProtocolNative = "native" // Ollama tools / tool_calls / role tool
	ProtocolText   = "text"   // Thought / Action / Action Input / Observation in plain text
)

// Status says how a run ended.
const (
	StatusAnswered  = "answered"   // the agent gave a final answer
	StatusStepLimit = "step_limit" // the agent ran out of steps
	StatusLoop      = "loop"       // stopped after repeating the same action
	StatusError     = "error"      // the model could not be reached or failed
)

// Step kinds.
const (
	KindTool    = "tool"     // a call of a domain tool
	KindAgent   = "agent"    // a call of a domain agent; Sub is its run
	KindAsk     = "ask_user" // a clarifying question; Observation is the answer
	KindInvalid = "invalid"  // an action that could not be run: unparseable output, a repeated action
)

// AskTool is the action name of a clarifying question, on every orchestrator.
const AskTool = "ask_user"

// Trajectory is one run of an agent on one question.
type Trajectory struct {
	Version    int    `json:"version"`
	ScenarioID string `json:"scenario_id,omitempty"`
	Question   string `json:"question"`
	Model      string `json:"model,omitempty"`
	// Agent is the orchestration style of a top-level run, or the domain
	// agent ("iot", "wo", ...) of a nested one.
	Agent    string `json:"agent"`
	Protocol string `json:"protocol,omitempty"`
	// Plans are the plan attempts of a plan-execute run, in order; the one
	// marked Ran is the plan that ran.
	Plans []Plan `json:"plans,omitempty"`
	Steps []Step `json:"steps"`
	// Reviews are the review passes of a ReAct run, in order.
	Reviews     []Review `json:"reviews,omitempty"`
	FinalAnswer string   `json:"final_answer"`
	Status      string   `json:"status"`
	Error       string   `json:"error,omitempty"`
	// Warnings are problems that did not stop the run, such as a prompt the
	// server silently truncated.
	Warnings []string `json:"warnings,omitempty"`
	Usage    Usage    `json:"usage"`
}

// Step is one action and what came back.
type Step struct {
	Kind    string `json:"kind"`
	Agent   string `json:"agent"`
	Thought string `json:"thought,omitempty"`
	Tool    string `json:"tool"`
	// Args are the action's JSON arguments; arguments that were not valid
	// JSON are kept as a JSON string.
	Args json.RawMessage `json:"args"`
	// Observation is the tool's JSON result, or {"error": "...", "kind": "..."}.
	Observation json.RawMessage `json:"observation"`
	Error       string          `json:"error,omitempty"`
	// PlanStep is the plan step this action carries out (plan-execute), from 1.
	PlanStep int `json:"plan_step,omitempty"`
	// Usage is the model turn that chose this action; on the first action of
	// a turn only.
	Usage *Usage `json:"usage,omitempty"`
	// Sub is the run of the domain agent a KindAgent step called.
	Sub *Trajectory `json:"sub,omitempty"`
}

// OK reports whether the action succeeded.
func (s Step) OK() bool { return s.Error == "" }

// Plan is one plan attempt and its review.
type Plan struct {
	// Text is the planner's reply as written.
	Text  string     `json:"text"`
	Steps []PlanStep `json:"steps"`
	// Error says why the plan could not be used (it did not parse, named an
	// unknown agent, had a cycle); the review is then skipped.
	Error  string  `json:"error,omitempty"`
	Review *Review `json:"review,omitempty"`
	// Ran marks the plan the executor ran: the first one the reviewer
	// accepted, else the last one that parsed.
	Ran bool `json:"ran,omitempty"`
}

// PlanStep is one numbered step of a plan.
type PlanStep struct {
	N              int    `json:"n"`
	Task           string `json:"task"`
	Agent          string `json:"agent"`
	DependsOn      []int  `json:"depends_on"`
	ExpectedOutput string `json:"expected_output,omitempty"`
}

// Review is a reviewer's verdict on a plan or on a finished run.
type Review struct {
	// Status is "valid" or "invalid" for a plan, "accomplished" or
	// "not accomplished" for a run; anything else the reviewer wrote is kept.
	Status      string `json:"status"`
	Reasoning   string `json:"reasoning,omitempty"`
	Suggestions string `json:"suggestions,omitempty"`
	// Text is the reviewer's reply when it could not be read as a review.
	Text string `json:"text,omitempty"`
}

// Usage counts model calls, tokens and the model time the server reported.
type Usage struct {
	Calls            int   `json:"calls"`
	PromptTokens     int   `json:"prompt_tokens"`
	CompletionTokens int   `json:"completion_tokens"`
	ModelMillis      int64 `json:"model_ms,omitempty"`
}

// Add adds u2 into u.
func (u *Usage) Add(u2 Usage) {
	u.Calls += u2.Calls
	u.PromptTokens += u2.PromptTokens
	u.CompletionTokens += u2.CompletionTokens
	u.ModelMillis += u2.ModelMillis
}

// Actions lists the run's actions as the user and the judges see them, in
// order: tool calls and clarifying questions, with the calls a domain agent
// made in place of the step that called it. Invalid actions are left out;
// a domain-agent call that never ran its agent stays, with its error.
func (t *Trajectory) Actions() []Step {
	var out []Step
	var walk func(*Trajectory)
	walk = func(t *Trajectory) {
		for _, s := range t.Steps {
			switch {
			case s.Kind == KindInvalid:
			case s.Kind == KindAgent && s.Sub != nil:
				walk(s.Sub)
			default:
				out = append(out, s)
			}
		}
	}
	walk(t)
	return out
}

// UnmarshalJSON reads versions 1 and 2: a version-1 step has no kind, and is
// a tool call.
func (t *Trajectory) UnmarshalJSON(b []byte) error {
	type plain Trajectory
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	for i := range p.Steps {
		if p.Steps[i].Kind == "" {
			p.Steps[i].Kind = KindTool
		}
	}
	*t = Trajectory(p)
	return nil
}
