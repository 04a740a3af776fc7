// Package react is a ReAct agent: the model picks an action, the agent runs
// it and shows the result, until the model answers or the steps run out.
//
// Actions are tools, whole domain agents (the Tool-As-Agent design, see
// AgentAction) or a clarifying question to the user (AskAction). Two
// protocols carry them: native tool calling (Ollama's tools, tool_calls and
// role tool) and text ReAct (Thought / Action / Action Input / Observation /
// Final Answer) for models without tool support. Whatever the model gets
// wrong — an unknown tool, broken arguments, an unparseable reply, the same
// call again — becomes an observation it can recover from and a step in the
// trajectory, never a crash.
package react

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
)

// DefaultMaxSteps bounds the model turns of one run.
const DefaultMaxSteps = 10

// DefaultMaxRepeats is how many repeated actions a run survives: each
// repeat is refused with an observation, the next one stops the run.
const DefaultMaxRepeats = 2

// SystemPrompt frames the task for a single agent over every tool.
const SystemPrompt = `You are an agent for industrial asset operations at a plant with chillers and air-handling units.
Answer the user's question with the tools: they read the plant's sites, assets, sensors and telemetry (iot),
failure modes (fmsr), time-series forecasting models (tsfm) and work orders (wo).
Get every fact from a tool; never invent values. Times are site-local ISO 8601 without a zone.
When you have what you need, reply without a tool call: a short final answer that states the names and figures you found.`

// ReviewPrompt asks for the review of a finished attempt. Its first line
// names the role, so that logs and reference policies can tell it apart.
const ReviewPrompt = `You review the work of an industrial asset-operations agent.
Given the question, the actions the agent took with their results, and its final answer, decide whether the answer
accomplishes the task: it answers what was asked, every figure in it comes from a result, and nothing is invented.
Reply with JSON only: {"status": "accomplished" or "not accomplished", "reasoning": "...", "suggestions": "..."}.`

// Agent answers one question at a time. It is safe to use from several
// goroutines when its Model and Actions are.
type Agent struct {
	// Name is the trajectory's Agent: the style of a top-level agent or the
	// domain of a domain agent.
	Name      string
	Model     llm.Model
	ModelName string
	Actions   []Action
	Options   llm.Options
	Protocol  string // trajectory.ProtocolNative (default) or ProtocolText
	MaxSteps  int    // DefaultMaxSteps when zero
	// MaxRepeats is how many repeated actions are refused before the run
	// stops with status loop; DefaultMaxRepeats when zero.
	MaxRepeats int
	System     string // SystemPrompt when empty
	// Review asks the model to review the answer; when the review says the
	// task was not accomplished the agent tries once more with the review
	// as feedback (Reflexion with one reflection).
	Review bool
}

// Run answers question and returns the trajectory. A model error ends the
// run: the trajectory so far is returned with status error, and the error.
func (a *Agent) Run(ctx context.Context, scenarioID, question string) (*trajectory.Trajectory, error) {
	name := a.Name
	if name == "" {
		name = trajectory.StyleReAct
	}
	protocol := a.Protocol
	if protocol == "" {
		protocol = trajectory.ProtocolNative
	}
	if protocol != trajectory.ProtocolNative && protocol != trajectory.ProtocolText {
		return nil, fmt.Errorf("react: unknown protocol %q (native, text)", protocol)
	}
	tr := &trajectory.Trajectory{
		Version: trajectory.Version, ScenarioID: scenarioID, Question: question,
		Model: a.ModelName, Agent: name, Protocol: protocol, Steps: []trajectory.Step{},
	}
	r := &run{a: a, tr: tr, protocol: protocol, byName: map[string]Action{}}
	for _, act := range a.Actions {
		r.byName[act.Spec().Function.Name] = act
	}
	if err := r.attempt(ctx, ""); err != nil {
		return tr, err
	}
	if !a.Review || tr.Status == trajectory.StatusError {
		return tr, nil
	}
	rev, err := r.review(ctx)
	if err != nil {
		return tr, err
	}
	tr.Reviews = append(tr.Reviews, rev)
	if accomplished(rev) {
		return tr, nil
	}
	feedback := "A review of your previous attempt found it did not accomplish the task.\nReasoning: " + rev.Reasoning +
		"\nSuggestions: " + rev.Suggestions + "\nTry again, taking the review into account."
	if rev.Text != "" {
		feedback = "A review of your previous attempt said:\n" + rev.Text + "\nTry again, taking the review into account."
	}
	return tr, r.attempt(ctx, feedback)
}

func accomplished(r trajectory.Review) bool {
	s := strings.ToLower(strings.TrimSpace(r.Status))
	return s == "accomplished" || s == "unreadable"
}

// run is the state of one Run.
type run struct {
	a        *Agent
	tr       *trajectory.Trajectory
	protocol string
	byName   map[string]Action
	seen     map[string]bool // actions already run, by name and canonical arguments
	repeats  int
}

// attempt runs the ReAct loop once, appending to the trajectory. feedback,
// when set, is a review of an earlier attempt.
func (r *run) attempt(ctx context.Context, feedback string) error {
	a, tr := r.a, r.tr
	maxSteps := a.MaxSteps
	if maxSteps <= 0 {
		maxSteps = DefaultMaxSteps
	}
	maxRepeats := a.MaxRepeats
	if maxRepeats <= 0 {
		maxRepeats = DefaultMaxRepeats
	}
	r.seen, r.repeats = map[string]bool{}, 0
	system := a.System
	if system == "" {
		system = SystemPrompt
	}
	var offered []llm.Tool
	for _, act := range a.Actions {
		offered = append(offered, act.Spec())
	}
	req := &llm.ChatRequest{Model: a.ModelName, Options: a.Options}
	if r.protocol == trajectory.ProtocolText {
		system += "\n\n" + TextInstructions(offered)
		// Stop where the model would start inventing the tool's result.
		req.Options.Stop = append(slices.Clone(req.Options.Stop), "Observation:")
	} else {
		req.Tools = offered
	}
	msgs := []llm.Message{{Role: "system", Content: system}, {Role: "user", Content: tr.Question}}
	if feedback != "" {
		msgs = append(msgs, llm.Message{Role: "user", Content: feedback})
	}
	for range maxSteps {
		// A request a turn: a model may keep the requests it was given.
		turn := *req
		turn.Messages = msgs
		resp, usage, err := r.chat(ctx, &turn)
		if err != nil {
			return err
		}
		msg := resp.Message
		var steps []trajectory.Step
		var final *string
		if r.protocol == trajectory.ProtocolText {
			steps, final, msgs, err = r.textTurn(ctx, msg, msgs)
		} else {
			steps, final, msgs, err = r.nativeTurn(ctx, msg, msgs)
		}
		if len(steps) > 0 {
			steps[0].Usage = &usage
		}
		tr.Steps = append(tr.Steps, steps...)
		if err != nil {
			tr.Status, tr.Error = trajectory.StatusError, err.Error()
			return err
		}
		if final != nil {
			tr.FinalAnswer, tr.Status = *final, trajectory.StatusAnswered
			return nil
		}
		if r.repeats > maxRepeats {
			tr.Status = trajectory.StatusLoop
			return nil
		}
	}
	tr.Status = trajectory.StatusStepLimit
	return nil
}

// chat makes one model call, counting its usage and checking the prompt
// arrived whole.
func (r *run) chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, trajectory.Usage, error) {
	resp, err := r.a.Model.Chat(ctx, req)
	if err != nil {
		r.tr.Status, r.tr.Error = trajectory.StatusError, err.Error()
		return nil, trajectory.Usage{}, err
	}
	u := trajectory.Usage{Calls: 1, PromptTokens: resp.PromptEvalCount, CompletionTokens: resp.EvalCount, ModelMillis: resp.TotalDuration.Milliseconds()}
	r.tr.Usage.Add(u)
	if w := Truncation(req, resp); w != "" {
		r.tr.Warnings = append(r.tr.Warnings, w)
	}
	return resp, u, nil
}

// bytesPerToken under-estimates the tokens of a prompt (real tokenizers
// give about 3-4 bytes a token on English and JSON), so that a prompt judged
// too long surely was.
const bytesPerToken = 4

// Truncation says, when it happened, that the server cut the prompt to fit
// its context: Ollama does so silently, keeping the end of the conversation,
// so the model may never have seen the system prompt or the question. It is
// detected when the request needs more tokens than num_ctx by a
// conservative estimate and the server reports evaluating no more than
// num_ctx.
func Truncation(req *llm.ChatRequest, resp *llm.ChatResponse) string {
	if req.Options.NumCtx == nil || resp.PromptEvalCount <= 0 {
		return ""
	}
	n := 0
	for _, m := range req.Messages {
		n += len(m.Content)
		for _, c := range m.ToolCalls {
			n += len(c.Function.Name) + len(c.Function.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += len(t.Function.Name) + len(t.Function.Description) + len(t.Function.Parameters)
	}
	estimate, numCtx := n/bytesPerToken, *req.Options.NumCtx
	if estimate <= numCtx || resp.PromptEvalCount > numCtx {
		return ""
	}
	return fmt.Sprintf("prompt truncated: the request needs at least %d tokens but num_ctx is %d and the server evaluated %d prompt tokens",
		estimate, numCtx, resp.PromptEvalCount)
}

// nativeTurn handles one native tool-calling reply.
func (r *run) nativeTurn(ctx context.Context, msg llm.Message, msgs []llm.Message) ([]trajectory.Step, *string, []llm.Message, error) {
	thought := msg.Content
	if thought == "" {
		thought = msg.Thinking
	}
	if len(msg.ToolCalls) == 0 {
		if name, ok := textToolCall(msg.Content); ok {
			// The model wrote a tool call as text instead of calling it:
			// a formatting failure, shown to the model so it can retry.
			obs := fmt.Sprintf("Invalid action format: the reply contains a call of %q written as text. Call tools through the tool-calling interface, or reply with the final answer only.", name)
			step := invalid(r.a.Name, thought, name, obs)
			msgs = append(msgs, llm.Message{Role: "assistant", Content: msg.Content}, llm.Message{Role: "user", Content: obs})
			return []trajectory.Step{step}, nil, msgs, nil
		}
		answer := strings.TrimSpace(msg.Content)
		return nil, &answer, msgs, nil
	}
	msgs = append(msgs, llm.Message{Role: "assistant", Content: msg.Content, Thinking: msg.Thinking, ToolCalls: msg.ToolCalls})
	var steps []trajectory.Step
	for _, call := range msg.ToolCalls {
		step, err := r.do(ctx, call.Function.Name, call.Function.Arguments)
		step.Thought = thought
		steps = append(steps, step)
		if err != nil {
			return steps, nil, msgs, err
		}
		msgs = append(msgs, llm.Message{Role: "tool", Content: string(step.Observation), ToolName: call.Function.Name, ToolCallID: call.ID})
	}
	return steps, nil, msgs, nil
}

// textTurn handles one text-protocol reply.
func (r *run) textTurn(ctx context.Context, msg llm.Message, msgs []llm.Message) ([]trajectory.Step, *string, []llm.Message, error) {
	reply, perr := ParseText(msg.Content)
	if perr != nil {
		step := invalid(r.a.Name, "", "", perr.Error())
		msgs = append(msgs, llm.Message{Role: "assistant", Content: msg.Content}, llm.Message{Role: "user", Content: "Observation: " + perr.Error()})
		return []trajectory.Step{step}, nil, msgs, nil
	}
	if reply.HasFinal {
		answer := strings.TrimSpace(reply.Final)
		return nil, &answer, msgs, nil
	}
	step, err := r.do(ctx, reply.Action, reply.Input)
	step.Thought = reply.Thought
	if err != nil {
		return []trajectory.Step{step}, nil, msgs, err
	}
	msgs = append(msgs,
		llm.Message{Role: "assistant", Content: FormatTextAction(reply)},
		llm.Message{Role: "user", Content: "Observation: " + string(step.Observation)})
	return []trajectory.Step{step}, nil, msgs, nil
}

// do runs one action the model chose, refusing unknown and repeated ones.
func (r *run) do(ctx context.Context, name string, args json.RawMessage) (trajectory.Step, error) {
	if t := bytes.TrimSpace(args); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		args = json.RawMessage("{}")
	}
	if !json.Valid(args) {
		// Keep broken arguments readable in the trajectory JSON, and tell
		// the model what was wrong.
		quoted, _ := json.Marshal(string(args))
		err := &tools.ArgsError{Tool: name, Err: fmt.Errorf("arguments are not JSON: %s", excerpt(string(args), 200))}
		return trajectory.Step{Kind: trajectory.KindTool, Agent: tools.AgentOf(name), Tool: name, Args: quoted,
			Observation: tools.ErrorResult(err), Error: err.Error()}, nil
	}
	act, ok := r.byName[name]
	if !ok {
		err := fmt.Errorf("%w %q (offered: %s)", tools.ErrUnknownTool, name, strings.Join(r.names(), ", "))
		return trajectory.Step{Kind: trajectory.KindTool, Agent: tools.AgentOf(name), Tool: name, Args: args,
			Observation: tools.ErrorResult(err), Error: err.Error()}, nil
	}
	key := name + " " + canonical(args)
	if r.seen[key] {
		r.repeats++
		obs := fmt.Sprintf("Loop detected: %s was already called with these arguments and its result is above. Do not repeat it: choose another action or give the final answer.", name)
		step := invalid(r.a.Name, "", name, obs)
		step.Args = args
		return step, nil
	}
	r.seen[key] = true
	step, err := act.Do(ctx, args)
	if step.Sub != nil {
		r.tr.Usage.Add(step.Sub.Usage)
	}
	return step, err
}

func (r *run) names() []string {
	var out []string
	for _, act := range r.a.Actions {
		out = append(out, act.Spec().Function.Name)
	}
	return out
}

// invalid records an action that was not run; obs is what the model is told.
func invalid(agent, thought, tool, obs string) trajectory.Step {
	o, _ := json.Marshal(map[string]string{"error": obs, "kind": "invalid_action"})
	return trajectory.Step{Kind: trajectory.KindInvalid, Agent: agent, Thought: thought, Tool: tool,
		Args: json.RawMessage("{}"), Observation: o, Error: obs}
}

// canonical re-encodes JSON with sorted keys, so that the same arguments in
// another key order count as the same action.
func canonical(b json.RawMessage) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// textCall finds a tool call written as text: a JSON object with a name and
// arguments, bare or inside <tool_call> tags, as small models write when
// their template does not match.
var textCall = regexp.MustCompile(`(?s)^\s*(?:<tool_call>)?\s*(?:` + "```" + `(?:json)?)?\s*(\{.*\})\s*(?:` + "```" + `)?\s*(?:</tool_call>)?\s*$`)

func textToolCall(content string) (string, bool) {
	m := textCall.FindStringSubmatch(content)
	if m == nil {
		return "", false
	}
	var call struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
		Params    json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(m[1]), &call); err != nil || call.Name == "" || (call.Arguments == nil && call.Params == nil) {
		return "", false
	}
	return call.Name, true
}

// review asks the model whether the attempt accomplished the task.
func (r *run) review(ctx context.Context) (trajectory.Review, error) {
	var b strings.Builder
	for i, s := range r.tr.Steps {
		fmt.Fprintf(&b, "%d. %s %s -> %s\n", i+1, s.Tool, s.Args, excerpt(string(s.Observation), 600))
	}
	if b.Len() == 0 {
		b.WriteString("(no actions)\n")
	}
	req := &llm.ChatRequest{Model: r.a.ModelName, Options: r.a.Options, Format: json.RawMessage(`"json"`), Messages: []llm.Message{
		{Role: "system", Content: ReviewPrompt},
		{Role: "user", Content: r.tr.Question},
		{Role: "user", Content: "Actions and results:\n" + b.String() + "\nFinal answer:\n" + r.tr.FinalAnswer + "\n\nStatus of the run: " + r.tr.Status},
	}}
	resp, _, err := r.chat(ctx, req)
	if err != nil {
		return trajectory.Review{}, err
	}
	return ParseReview(resp.Message.Content), nil
}

// ParseReview reads a reviewer's JSON reply: the first {...} in it, with
// keys matched case-insensitively. A reply that does not parse is kept as
// text with status "unreadable", which does not block the run: an
// unreadable review is no evidence against the work.
func ParseReview(content string) trajectory.Review {
	start, end := strings.Index(content, "{"), strings.LastIndex(content, "}")
	if start >= 0 && end > start {
		var m map[string]any
		if json.Unmarshal([]byte(content[start:end+1]), &m) == nil {
			var rv trajectory.Review
			for _, k := range slices.Sorted(maps.Keys(m)) {
				v := m[k]
				s := fmt.Sprint(v)
				switch strings.ToLower(k) {
				case "status":
					rv.Status = strings.ToLower(strings.TrimSpace(s))
				case "reasoning", "reason":
					rv.Reasoning = s
				case "suggestions", "suggestion":
					rv.Suggestions = s
				}
			}
			if rv.Status != "" {
				return rv
			}
		}
	}
	return trajectory.Review{Status: "unreadable", Text: content}
}

// marshal encodes JSON without HTML escaping, so observations read as the
// tools wrote them.
func marshal(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
