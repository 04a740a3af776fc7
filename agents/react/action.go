package react

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
)

// Action is one thing an agent may do: call a tool, call a domain agent, ask
// the user. Failures of the action itself (bad arguments, a tool error) are
// in the returned step, for the model to read; the error is for failures of
// the run, such as a model server that went away under a sub-agent.
type Action interface {
	Spec() llm.Tool
	Do(ctx context.Context, args json.RawMessage) (trajectory.Step, error)
}

// ToolActions offers every tool of reg, sorted by name.
func ToolActions(reg *tools.Registry) []Action {
	var out []Action
	for _, t := range reg.Tools() {
		out = append(out, toolAction{reg: reg, spec: llm.Tool{
			Type:     "function",
			Function: llm.ToolFunction{Name: t.Name, Description: t.Description, Parameters: t.Schema},
		}})
	}
	return out
}

type toolAction struct {
	reg  *tools.Registry
	spec llm.Tool
}

func (a toolAction) Spec() llm.Tool { return a.spec }

func (a toolAction) Do(ctx context.Context, args json.RawMessage) (trajectory.Step, error) {
	name := a.spec.Function.Name
	step := trajectory.Step{Kind: trajectory.KindTool, Agent: tools.AgentOf(name), Tool: name, Args: args}
	out, err := a.reg.Call(ctx, name, args)
	if err != nil {
		step.Error = err.Error()
		out = tools.ErrorResult(err)
	}
	step.Observation = out
	return step, nil
}

// Asker answers an agent's clarifying question. The harness answers from the
// scenario's clarification data.
type Asker interface {
	Answer(ctx context.Context, question string) string
}

// AskAction offers the ask_user action, answered by asker.
func AskAction(asker Asker) Action { return askAction{asker} }

type askAction struct{ asker Asker }

var askSchema = json.RawMessage(`{"type":"object","properties":{"question":{"type":"string","description":"The question for the user."}},"required":["question"],"additionalProperties":false}`)

func (askAction) Spec() llm.Tool {
	return llm.Tool{Type: "function", Function: llm.ToolFunction{
		Name:        trajectory.AskTool,
		Description: "Ask the user a clarifying question when the request is ambiguous or lacks something you need (which asset, sensor or time window). The user's reply comes back as the result.",
		Parameters:  askSchema,
	}}
}

func (a askAction) Do(ctx context.Context, args json.RawMessage) (trajectory.Step, error) {
	step := trajectory.Step{Kind: trajectory.KindAsk, Agent: "user", Tool: trajectory.AskTool, Args: args}
	var in struct {
		Question string `json:"question"`
	}
	dec := json.NewDecoder(strings.NewReader(string(args)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || strings.TrimSpace(in.Question) == "" {
		err := &tools.ArgsError{Tool: trajectory.AskTool, Err: fmt.Errorf(`want {"question": "..."}`)}
		step.Error, step.Observation = err.Error(), tools.ErrorResult(err)
		return step, nil
	}
	step.Observation, _ = json.Marshal(map[string]string{"answer": a.asker.Answer(ctx, in.Question)})
	return step, nil
}

// Canned is an action that ignores its input and always returns the same
// text: the distractor agents, irrelevant tools that measure whether an agent
// is drawn to a plausible name.
func Canned(name, description, reply string) Action {
	return canned{spec: llm.Tool{Type: "function", Function: llm.ToolFunction{
		Name: name, Description: description, Parameters: requestSchema,
	}}, reply: reply}
}

type canned struct {
	spec  llm.Tool
	reply string
}

func (c canned) Spec() llm.Tool { return c.spec }

func (c canned) Do(_ context.Context, args json.RawMessage) (trajectory.Step, error) {
	obs, _ := json.Marshal(map[string]string{"answer": c.reply, "status": "completed"})
	name := c.spec.Function.Name
	return trajectory.Step{Kind: trajectory.KindAgent, Agent: name, Tool: name, Args: args, Observation: obs}, nil
}

var requestSchema = json.RawMessage(`{"type":"object","properties":{"request":{"type":"string","description":"What you need, in plain words, with the names, times and figures the agent needs."}},"required":["request"],"additionalProperties":false}`)

// Rotate returns the actions shifted left by k (modulo their number), the
// tool-order shift of the original: the same tools offered in another order.
func Rotate(as []Action, k int) []Action {
	n := len(as)
	if n == 0 {
		return as
	}
	k = ((k % n) + n) % n
	return append(append([]Action{}, as[k:]...), as[:k]...)
}
