package planexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/planexec"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/agents/trajectory"
)

// Roles of the calls the orchestrator makes, told apart by system prompt.
const (
	rolePlanner  = "planner"
	roleReviewer = "reviewer"
	roleSummary  = "summariser"
	roleDomain   = "domain"
)

var plannerFirstLine, _, _ = strings.Cut(planexec.PlannerPrompt, "\n")

func roleOf(req *llm.ChatRequest) string {
	if len(req.Messages) == 0 || req.Messages[0].Role != "system" {
		return roleDomain
	}
	switch sys := req.Messages[0].Content; {
	case strings.HasPrefix(sys, plannerFirstLine):
		return rolePlanner
	case sys == planexec.ReviewerPrompt:
		return roleReviewer
	case sys == planexec.SummaryPrompt:
		return roleSummary
	}
	return roleDomain
}

// call is one request the scripted model received.
type call struct {
	Role string
	Lane string // the Fork lane it came through; "" for the orchestrator's own model
	Req  *llm.ChatRequest
	Err  error // what the model returned as its error
}

// domainCall is what a domain agent's turn looks like to the script.
type domainCall struct {
	Lane    string
	Request string // the first user message: the step's request
	Task    string // Request up to planexec.ContextMarker
	Turn    int    // the number of assistant turns before this one
	Req     *llm.ChatRequest
}

// domainFunc plays a domain agent's turn.
type domainFunc func(ctx context.Context, c domainCall) (llm.Message, error)

// roleModel is a scripted llm.Model that answers by role. It is safe for
// concurrent use: the executor calls it (and its forks) from several
// goroutines. Every request is recorded, with the lane it came through.
type roleModel struct {
	planner []string // the planner's replies in order; the last repeats
	reviews []string // the reviewer's replies in order; the last repeats
	summary string   // the summariser's reply
	// plannerErr, reviewErr, summaryErr fail that role's calls.
	plannerErr, reviewErr, summaryErr error
	domain                            domainFunc // answerTask when nil

	mu      sync.Mutex
	calls   []call
	forks   []string
	nByRole map[string]int
}

func (m *roleModel) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	return m.chat(ctx, "", req)
}

func (m *roleModel) Embed(context.Context, *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	return nil, errors.New("no embeddings")
}

func (m *roleModel) Show(context.Context, string) (*llm.ModelInfo, error) {
	return &llm.ModelInfo{Name: "scripted"}, nil
}

// Fork gives a lane's model: the same script, recorded under the lane.
func (m *roleModel) Fork(lane string) llm.Model {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forks = append(m.forks, lane)
	return &laneModel{m: m, lane: lane}
}

type laneModel struct {
	m    *roleModel
	lane string
}

func (l *laneModel) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	return l.m.chat(ctx, l.lane, req)
}

func (l *laneModel) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	return l.m.Embed(ctx, req)
}

func (l *laneModel) Show(ctx context.Context, model string) (*llm.ModelInfo, error) {
	return l.m.Show(ctx, model)
}

func (m *roleModel) chat(ctx context.Context, lane string, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	role := roleOf(req)
	m.mu.Lock()
	if m.nByRole == nil {
		m.nByRole = map[string]int{}
	}
	n := m.nByRole[role]
	m.nByRole[role]++
	m.calls = append(m.calls, call{Role: role, Lane: lane, Req: req})
	idx := len(m.calls) - 1
	m.mu.Unlock()

	msg, err := m.reply(ctx, role, n, lane, req)
	if err == nil {
		// A real client would fail a call whose context is gone.
		err = ctx.Err()
	}
	if err != nil {
		m.mu.Lock()
		m.calls[idx].Err = err
		m.mu.Unlock()
		return nil, err
	}
	msg.Role = "assistant"
	return &llm.ChatResponse{Model: "scripted", Message: msg, Done: true, Metrics: llm.Metrics{PromptEvalCount: 10, EvalCount: 2}}, nil
}

func nth(replies []string, n int) string {
	if len(replies) == 0 {
		return ""
	}
	return replies[min(n, len(replies)-1)]
}

func (m *roleModel) reply(ctx context.Context, role string, n int, lane string, req *llm.ChatRequest) (llm.Message, error) {
	switch role {
	case rolePlanner:
		return llm.Message{Content: nth(m.planner, n)}, m.plannerErr
	case roleReviewer:
		return llm.Message{Content: nth(m.reviews, n)}, m.reviewErr
	case roleSummary:
		return llm.Message{Content: m.summary}, m.summaryErr
	}
	c := domainCall{Lane: lane, Req: req}
	if len(req.Messages) > 1 {
		c.Request = req.Messages[1].Content
	}
	c.Task, _, _ = strings.Cut(c.Request, planexec.ContextMarker)
	for _, msg := range req.Messages {
		if msg.Role == "assistant" {
			c.Turn++
		}
	}
	f := m.domain
	if f == nil {
		f = answerTask
	}
	return f(ctx, c)
}

// recorded returns a copy of the calls so far.
func (m *roleModel) recorded() []call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

// byRole returns the calls of one role, in the order they were made.
func (m *roleModel) byRole(role string) []call {
	var out []call
	for _, c := range m.recorded() {
		if c.Role == role {
			out = append(out, c)
		}
	}
	return out
}

// lanes returns the lanes forked, sorted.
func (m *roleModel) lanes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(slices.Values(m.forks))
}

// answerTask answers at once: "done: <task>".
func answerTask(_ context.Context, c domainCall) (llm.Message, error) {
	return llm.Message{Content: "done: " + c.Task}, nil
}

// toolThenAnswer calls iot.sites on its first turn, then answers.
func toolThenAnswer(ctx context.Context, c domainCall) (llm.Message, error) {
	if c.Turn == 0 {
		return llm.Message{ToolCalls: []llm.ToolCall{{ID: "c1", Function: llm.ToolCallFunction{Name: "iot.sites", Arguments: json.RawMessage(`{}`)}}}}, nil
	}
	return answerTask(ctx, c)
}

// step is a plan step for FormatPlan.
func step(n int, agent, task string, deps ...int) trajectory.PlanStep {
	if deps == nil {
		deps = []int{}
	}
	return trajectory.PlanStep{N: n, Task: task, Agent: agent, DependsOn: deps, ExpectedOutput: "the result of " + task}
}

func planText(steps ...trajectory.PlanStep) string { return planexec.FormatPlan(steps) }

// domainAgents are two real domain agents over the dataset's tools. The
// orchestrator replaces their Model per step.
func domainAgents(t testing.TB) []planexec.Agent {
	t.Helper()
	acts := react.ToolActions(agentstest.Registry(t))
	runner := func(name string) *react.Agent {
		return &react.Agent{
			Name: name, ModelName: "scripted", Actions: acts, MaxSteps: 4, Options: llm.DefaultOptions(),
			Protocol: trajectory.ProtocolNative, // as the harness resolves it
			System:   "You are the " + name + " agent of an industrial asset-operations team.",
		}
	}
	return []planexec.Agent{
		{Name: "iot", Title: "IoT Data Download", Description: "sites, assets, sensors and telemetry", Runner: runner("iot")},
		{Name: "wo", Title: "Work Order Management", Description: "work orders", Runner: runner("wo")},
	}
}

func orchestrator(t testing.TB, m llm.Model) *planexec.Orchestrator {
	return &planexec.Orchestrator{Model: m, ModelName: "scripted", Options: llm.DefaultOptions(), Agents: domainAgents(t)}
}

// run runs o on question, failing the test rather than hanging when the run
// does not return within the timeout, and checks no goroutine outlives it.
func run(t *testing.T, o *planexec.Orchestrator, question string) (*trajectory.Trajectory, error) {
	t.Helper()
	before := runtime.NumGoroutine()
	type out struct {
		tr  *trajectory.Trajectory
		err error
	}
	ch := make(chan out, 1)
	go func() {
		tr, err := o.Run(context.Background(), "s1", question)
		ch <- out{tr, err}
	}()
	var r out
	select {
	case r = <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20s")
	}
	if r.tr == nil {
		t.Fatalf("Run returned a nil trajectory (err %v)", r.err)
	}
	// The goroutine that called Run exits after sending; give it and the
	// executor's workers a moment.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before Run, %d after: a leak?\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
	return r.tr, r.err
}

// stepView is what the tests compare of a trajectory step.
type stepView struct {
	Kind      string
	Agent     string
	Tool      string
	PlanStep  int
	Answer    string // the observation's "answer"
	Error     string
	SubStatus string // "" when there is no Sub
	SubTools  []string
}

func viewSteps(t *testing.T, steps []trajectory.Step) []stepView {
	t.Helper()
	var out []stepView
	for _, s := range steps {
		v := stepView{Kind: s.Kind, Agent: s.Agent, Tool: s.Tool, PlanStep: s.PlanStep, Error: s.Error}
		var obs struct {
			Answer string `json:"answer"`
		}
		if len(s.Observation) > 0 {
			if err := json.Unmarshal(s.Observation, &obs); err != nil {
				t.Errorf("step %d observation %s: %v", s.PlanStep, s.Observation, err)
			}
		}
		v.Answer = obs.Answer
		if s.Sub != nil {
			v.SubStatus = s.Sub.Status
			for _, a := range s.Sub.Steps {
				v.SubTools = append(v.SubTools, a.Tool)
			}
		}
		out = append(out, v)
	}
	return out
}

// request is the "request" argument of an agent step.
func request(t *testing.T, s trajectory.Step) string {
	t.Helper()
	var a struct {
		Request string `json:"request"`
	}
	if err := json.Unmarshal(s.Args, &a); err != nil {
		t.Fatalf("step %d args %s: %v", s.PlanStep, s.Args, err)
	}
	return a.Request
}

// lastUser is the content of a request's last message.
func lastContent(req *llm.ChatRequest) string {
	if len(req.Messages) == 0 {
		return ""
	}
	return req.Messages[len(req.Messages)-1].Content
}

func reviewJSON(status, reasoning, suggestions string) string {
	return fmt.Sprintf(`{"status": %q, "reasoning": %q, "suggestions": %q}`, status, reasoning, suggestions)
}
