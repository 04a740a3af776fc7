// Package react is a ReAct agent on native tool calling: the tools go in the
// request, the model answers with tool_calls, each result goes back as a
// message of role tool, until the model answers in text or the steps run out.
package react

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
)

// DefaultMaxSteps bounds the model turns of one run.
const DefaultMaxSteps = 10

// SystemPrompt frames the task for the model.
const SystemPrompt = `You are an agent for industrial asset operations at a plant with chillers and air-handling units.
Answer the user's question with the tools: they read the plant's sites, assets, sensors and telemetry (iot),
failure modes (fmsr), time-series forecasting models (tsfm) and work orders (wo).
Get every fact from a tool; never invent values. Times are site-local ISO 8601 without a zone.
When you have what you need, reply without a tool call: a short final answer that states the names and figures you found.`

// Agent runs one question at a time.
type Agent struct {
	Model     llm.Model
	ModelName string
	Tools     *tools.Registry
	Options   llm.Options
	MaxSteps  int    // DefaultMaxSteps when zero
	System    string // SystemPrompt when empty
}

// Run answers question and returns the trajectory. A model error ends the
// run: the trajectory so far is returned with status error, and the error.
func (a *Agent) Run(ctx context.Context, scenarioID, question string) (*trajectory.Trajectory, error) {
	maxSteps := a.MaxSteps
	if maxSteps <= 0 {
		maxSteps = DefaultMaxSteps
	}
	system := a.System
	if system == "" {
		system = SystemPrompt
	}
	tr := &trajectory.Trajectory{
		Version: trajectory.Version, ScenarioID: scenarioID, Question: question,
		Model: a.ModelName, Agent: "react", Steps: []trajectory.Step{},
	}
	msgs := []llm.Message{{Role: "system", Content: system}, {Role: "user", Content: question}}
	offered := a.Tools.LLMTools()
	for range maxSteps {
		resp, err := a.Model.Chat(ctx, &llm.ChatRequest{Model: a.ModelName, Messages: msgs, Tools: offered, Options: a.Options})
		if err != nil {
			tr.Status, tr.Error = trajectory.StatusError, err.Error()
			return tr, err
		}
		tr.Usage.Calls++
		tr.Usage.PromptTokens += resp.PromptEvalCount
		tr.Usage.CompletionTokens += resp.EvalCount
		msg := resp.Message
		if len(msg.ToolCalls) == 0 {
			tr.FinalAnswer, tr.Status = msg.Content, trajectory.StatusAnswered
			return tr, nil
		}
		msgs = append(msgs, llm.Message{Role: "assistant", Content: msg.Content, Thinking: msg.Thinking, ToolCalls: msg.ToolCalls})
		thought := msg.Content
		if thought == "" {
			thought = msg.Thinking
		}
		for _, call := range msg.ToolCalls {
			step := a.call(ctx, call)
			step.Thought = thought
			tr.Steps = append(tr.Steps, step)
			msgs = append(msgs, llm.Message{Role: "tool", Content: string(step.Observation), ToolName: call.Function.Name, ToolCallID: call.ID})
		}
	}
	tr.Status = trajectory.StatusStepLimit
	return tr, nil
}

// call runs one tool call. Tool failures, unknown tools and bad arguments are
// observations the model can recover from, not errors of the run.
func (a *Agent) call(ctx context.Context, call llm.ToolCall) trajectory.Step {
	args := call.Function.Arguments
	if t := bytes.TrimSpace(args); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		args = json.RawMessage("{}")
	}
	step := trajectory.Step{Agent: tools.AgentOf(call.Function.Name), Tool: call.Function.Name, Args: args}
	out, err := a.Tools.Call(ctx, call.Function.Name, args)
	if err != nil {
		step.Error = err.Error()
		out = tools.ErrorResult(err)
	}
	if !json.Valid(args) {
		// Keep broken arguments readable in the trajectory JSON.
		step.Args, _ = json.Marshal(string(args))
	}
	step.Observation = out
	return step
}
