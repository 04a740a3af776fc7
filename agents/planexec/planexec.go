// Package planexec is the Plan-Execute orchestrator: a planner writes a
// numbered plan (task, agent, dependencies, expected output per step), a
// reviewer accepts it or says what to fix (bounded re-plans), the executor
// runs the plan as a DAG — independent steps in parallel, each given the
// results of the steps it depends on — and a summariser writes the answer.
//
// A plan that does not parse, names an unknown agent or depends on a later
// step is recorded with its error and re-planned; when no attempt yields a
// usable plan the run ends with status error and says why, without failing
// the harness.
package planexec

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
)

// UserAgent is the plan agent that stands for the user: a step assigned to
// it is a clarifying question, offered when the run may ask.
const UserAgent = "user"

// Defaults.
const (
	DefaultMaxPlans    = 3
	DefaultConcurrency = 2
)

// ContextMarker separates a step's task from the results it depends on in
// the request a domain agent receives.
const ContextMarker = "\n\nContext from earlier steps:\n"

// PlannerPrompt is the planner's system prompt; %s is the list of agents.
const PlannerPrompt = `You plan the work of a team of agents for industrial asset operations (chillers, air-handling units).
The agents:
%s
Make a plan that answers the user's question. Each step is one task for one agent. A task must be self-contained:
name the site, asset, sensor and time window it concerns. A step can use the results of earlier steps (#S1, #S2, ...).
Write each step exactly like this:
## Step 1
#Task1: <the task>
#Agent1: <an agent name from the list>
#Dependency1: None, or the earlier steps whose results it needs, as #S1, #S2
#ExpectedOutput1: <what the step should produce>
A plan usually has fewer than 5 steps. Output only the plan.`

// ReviewerPrompt is the plan reviewer's system prompt.
const ReviewerPrompt = `You review plans for a team of industrial asset-operations agents.
A plan is valid when it has every step the question needs and no more, each step is within its agent's expertise,
dependencies are right, and it follows the question strictly without abstract steps.
Reply with JSON only: {"status": "valid" or "invalid", "reasoning": "...", "suggestions": "..."}.`

// SummaryPrompt is the summariser's system prompt.
const SummaryPrompt = `You write the final answer to an industrial asset-operations question from the results of the steps that were run.
State the names and figures the results give; do not add facts that are not in them.
If the results do not answer the question, say "Not enough information available." and what is missing.
Output only the answer.`

// Agent is one agent a plan may name.
type Agent struct {
	Name        string // what plans write ("iot")
	Title       string // a longer name plans may also use ("IoT Data Download")
	Description string
	// Runner is the ReAct agent that runs the agent's steps; its Model is
	// replaced, per step, by the orchestrator's model or a fork of it.
	Runner *react.Agent
	// Canned, for an agent without a Runner, is its reply to every task:
	// the distractor agents.
	Canned string
}

// Orchestrator runs questions with Plan-Execute.
type Orchestrator struct {
	Model     llm.Model
	ModelName string
	Options   llm.Options
	Agents    []Agent
	// Ask answers clarifying questions; nil means the run may not ask and
	// the user agent is not offered.
	Ask react.Asker
	// Review has each plan reviewed before it runs.
	Review      bool
	MaxPlans    int // DefaultMaxPlans when zero
	Concurrency int // DefaultConcurrency when zero
}

// forker is a model that can number the calls of parallel conversations
// apart (the cassette session): without it, the order in which parallel
// steps reach the model would decide which recording each call matches.
type forker interface {
	Fork(lane string) llm.Model
}

// Run plans, reviews, executes and summarises.
func (o *Orchestrator) Run(ctx context.Context, scenarioID, question string) (*trajectory.Trajectory, error) {
	tr := &trajectory.Trajectory{
		Version: trajectory.Version, ScenarioID: scenarioID, Question: question, Model: o.ModelName,
		Agent: trajectory.StylePlanExecute, Steps: []trajectory.Step{},
	}
	for _, a := range o.Agents {
		if a.Runner != nil {
			tr.Protocol = a.Runner.Protocol
			if tr.Protocol == "" {
				tr.Protocol = trajectory.ProtocolNative
			}
			break
		}
	}
	plan, err := o.plan(ctx, tr)
	if err != nil || plan == nil {
		return tr, err
	}
	results, err := o.execute(ctx, tr, plan)
	if err != nil {
		return tr, err
	}
	return tr, o.summarise(ctx, tr, plan, results)
}

// chat makes one call of the orchestrator's own (planner, reviewer,
// summariser) and counts it.
func (o *Orchestrator) chat(ctx context.Context, tr *trajectory.Trajectory, req *llm.ChatRequest) (string, error) {
	req.Model, req.Options = o.ModelName, o.Options
	resp, err := o.Model.Chat(ctx, req)
	if err != nil {
		tr.Status, tr.Error = trajectory.StatusError, err.Error()
		return "", err
	}
	tr.Usage.Add(trajectory.Usage{Calls: 1, PromptTokens: resp.PromptEvalCount, CompletionTokens: resp.EvalCount, ModelMillis: resp.TotalDuration.Milliseconds()})
	if w := react.Truncation(req, resp); w != "" {
		tr.Warnings = append(tr.Warnings, w)
	}
	return resp.Message.Content, nil
}

// agentList is the planner's view of the agents.
func (o *Orchestrator) agentList() string {
	var b strings.Builder
	for _, a := range o.Agents {
		fmt.Fprintf(&b, "- %s (%s): %s\n", a.Name, a.Title, a.Description)
	}
	if o.Ask != nil {
		fmt.Fprintf(&b, "- %s: the person who asked. Give it a task that is a clarifying question when the question is ambiguous or lacks something only they know.\n", UserAgent)
	}
	return strings.TrimRight(b.String(), "\n")
}

func (o *Orchestrator) agentName(s string) (string, bool) {
	s = strings.TrimSpace(strings.Trim(s, `"'`))
	if o.Ask != nil && strings.EqualFold(s, UserAgent) {
		return UserAgent, true
	}
	for _, a := range o.Agents {
		if strings.EqualFold(s, a.Name) || strings.EqualFold(s, a.Title) {
			return a.Name, true
		}
	}
	return "", false
}

// plan asks for plans until one parses and the reviewer accepts it, or the
// attempts run out. It returns the plan to run: the last accepted one, else
// the last one that parsed; nil, with the trajectory's status set, when none
// parsed.
func (o *Orchestrator) plan(ctx context.Context, tr *trajectory.Trajectory) ([]trajectory.PlanStep, error) {
	maxPlans := o.MaxPlans
	if maxPlans <= 0 {
		maxPlans = DefaultMaxPlans
	}
	msgs := []llm.Message{
		{Role: "system", Content: fmt.Sprintf(PlannerPrompt, o.agentList())},
		{Role: "user", Content: tr.Question},
	}
	var usable []trajectory.PlanStep
	ran := -1 // index in tr.Plans of the plan that runs
	for range maxPlans {
		text, err := o.chat(ctx, tr, &llm.ChatRequest{Messages: msgs})
		if err != nil {
			return nil, err
		}
		p := trajectory.Plan{Text: text}
		steps, perr := ParsePlan(text, o.agentName)
		var feedback string
		if perr != nil {
			p.Error = perr.Error()
			feedback = "The plan could not be used: " + perr.Error() + ". Write the whole plan again in the required format."
		} else {
			p.Steps, usable, ran = steps, steps, len(tr.Plans)
			if !o.Review {
				p.Ran = true
				tr.Plans = append(tr.Plans, p)
				return steps, nil
			}
			rev, err := o.review(ctx, tr, text)
			if err != nil {
				tr.Plans = append(tr.Plans, p)
				return nil, err
			}
			p.Review = &rev
			if rev.Status == "valid" || rev.Status == "unreadable" {
				p.Ran = true
				tr.Plans = append(tr.Plans, p)
				return steps, nil
			}
			feedback = "A reviewer found the plan invalid.\nReasoning: " + rev.Reasoning + "\nSuggestions: " + rev.Suggestions + "\nWrite an improved plan."
		}
		tr.Plans = append(tr.Plans, p)
		msgs = append(msgs, llm.Message{Role: "assistant", Content: text}, llm.Message{Role: "user", Content: feedback})
	}
	if usable != nil {
		tr.Plans[ran].Ran = true
	} else {
		tr.Status = trajectory.StatusError
		tr.Error = fmt.Sprintf("no usable plan after %d attempts; the last: %s", maxPlans, tr.Plans[len(tr.Plans)-1].Error)
	}
	return usable, nil
}

func (o *Orchestrator) review(ctx context.Context, tr *trajectory.Trajectory, plan string) (trajectory.Review, error) {
	text, err := o.chat(ctx, tr, &llm.ChatRequest{Format: json.RawMessage(`"json"`), Messages: []llm.Message{
		{Role: "system", Content: ReviewerPrompt},
		{Role: "user", Content: tr.Question},
		{Role: "user", Content: "Agents:\n" + o.agentList() + "\n\nPlan:\n" + plan},
	}})
	if err != nil {
		return trajectory.Review{}, err
	}
	return react.ParseReview(text), nil
}

// result is what one executed step left for the steps after it.
type result struct {
	step   trajectory.Step
	answer string
	err    error
}

// execute runs the plan as a DAG: a step starts when the steps it depends
// on have finished, at most Concurrency at a time. Steps are recorded in
// plan order whatever order they finished in.
func (o *Orchestrator) execute(ctx context.Context, tr *trajectory.Trajectory, plan []trajectory.PlanStep) ([]result, error) {
	workers := o.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]result, len(plan))
	done := make([]chan struct{}, len(plan))
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, workers)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error // the failure that cancelled the others, not what they saw after
	)
	for i, st := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			for _, d := range st.DependsOn {
				<-done[d-1]
				if results[d-1].step.Kind == "" || results[d-1].err != nil {
					return // the run is failing: a step without its inputs would only add noise
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return // select picks at random when both are ready
			}
			results[i] = o.runStep(ctx, st, plan, results)
			if err := results[i].err; err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("plan step %d: %w", st.N, err)
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.step.Kind != "" {
			tr.Steps = append(tr.Steps, r.step)
			if r.step.Sub != nil {
				tr.Usage.Add(r.step.Sub.Usage)
			}
		}
	}
	if firstErr != nil {
		tr.Status, tr.Error = trajectory.StatusError, firstErr.Error()
	}
	return results, firstErr
}

// runStep runs one plan step. Results of the steps it depends on are final
// when it runs: it waited for them.
func (o *Orchestrator) runStep(ctx context.Context, st trajectory.PlanStep, plan []trajectory.PlanStep, results []result) result {
	request := st.Task
	if len(st.DependsOn) > 0 {
		var b strings.Builder
		for _, d := range st.DependsOn {
			fmt.Fprintf(&b, "Step %d (%s), %s:\n%s\n", d, plan[d-1].Agent, oneLine(plan[d-1].Task), results[d-1].answer)
		}
		request += ContextMarker + strings.TrimRight(b.String(), "\n")
	}
	args, _ := json.Marshal(map[string]string{"request": request})
	if st.Agent == UserAgent {
		step, _ := react.AskAction(o.Ask).Do(ctx, mustJSON(map[string]string{"question": st.Task}))
		step.PlanStep = st.N
		var a struct {
			Answer string `json:"answer"`
		}
		_ = json.Unmarshal(step.Observation, &a)
		return result{step: step, answer: a.Answer}
	}
	var agent Agent
	for _, a := range o.Agents {
		if a.Name == st.Agent {
			agent = a
		}
	}
	if agent.Runner == nil {
		step, _ := react.Canned(agent.Name, agent.Description, agent.Canned).Do(ctx, args)
		step.PlanStep = st.N
		return result{step: step, answer: agent.Canned}
	}
	runner := *agent.Runner
	runner.Model = o.Model
	if f, ok := o.Model.(forker); ok {
		runner.Model = f.Fork(fmt.Sprintf("step-%d", st.N))
	}
	// Tools that call the model (the FMSR mapping) use the step's model too.
	if env := tools.EnvFrom(ctx); env.Model != nil {
		env.Model = runner.Model
		ctx = tools.WithEnv(ctx, env)
	}
	sub, err := runner.Run(ctx, "", request)
	step := trajectory.Step{Kind: trajectory.KindAgent, Agent: agent.Name, Tool: agent.Name, Args: args, PlanStep: st.N, Sub: sub}
	if err != nil {
		return result{step: step, err: err}
	}
	step.Observation = react.Answer(sub)
	if sub.Status != trajectory.StatusAnswered {
		step.Error = fmt.Sprintf("agent %s ended with status %s", agent.Name, sub.Status)
	}
	return result{step: step, answer: sub.FinalAnswer}
}

func mustJSON(v map[string]string) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// summarise writes the final answer from the step results.
func (o *Orchestrator) summarise(ctx context.Context, tr *trajectory.Trajectory, plan []trajectory.PlanStep, results []result) error {
	var b strings.Builder
	for i, st := range plan {
		answer := results[i].answer
		if strings.TrimSpace(answer) == "" {
			answer = "(no result)"
		}
		fmt.Fprintf(&b, "Step %d (%s): %s\nResult: %s\n\n", st.N, st.Agent, oneLine(st.Task), answer)
	}
	text, err := o.chat(ctx, tr, &llm.ChatRequest{Messages: []llm.Message{
		{Role: "system", Content: SummaryPrompt},
		{Role: "user", Content: tr.Question},
		{Role: "user", Content: "Results of the plan's steps:\n" + strings.TrimRight(b.String(), "\n")},
	}})
	if err != nil {
		return err
	}
	tr.FinalAnswer, tr.Status = strings.TrimSpace(text), trajectory.StatusAnswered
	return nil
}
