package planexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/planexec"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/google/go-cmp/cmp"
)

// A three-step plan: 1 and 2 independent, 3 needs both.
func TestRun(t *testing.T) {
	steps := []trajectory.PlanStep{
		step(1, "iot", "List the sites"),
		step(2, "wo", "List the work orders of Chiller 6"),
		step(3, "iot", "Compare the sites with the work orders", 1, 2),
	}
	plan := planText(steps...)
	valid := reviewJSON("valid", "each step fits its agent", "none")
	for _, review := range []bool{false, true} {
		t.Run(fmt.Sprintf("review=%v", review), func(t *testing.T) {
			m := &roleModel{planner: []string{plan}, reviews: []string{valid}, summary: "  MAIN has Chiller 6 with 2 work orders.\n", domain: toolThenAnswer}
			o := orchestrator(t, m)
			o.Review = review
			tr, err := run(t, o, "Which work orders do the assets at MAIN have?")
			if err != nil {
				t.Fatal(err)
			}

			if tr.Status != trajectory.StatusAnswered || tr.Error != "" {
				t.Errorf("status %q, error %q; want answered", tr.Status, tr.Error)
			}
			if tr.FinalAnswer != "MAIN has Chiller 6 with 2 work orders." {
				t.Errorf("final answer %q, want the summariser's reply", tr.FinalAnswer)
			}
			head := []string{tr.Agent, tr.Protocol, tr.Model, tr.ScenarioID, tr.Question}
			wantHead := []string{trajectory.StylePlanExecute, trajectory.ProtocolNative, "scripted", "s1", "Which work orders do the assets at MAIN have?"}
			if diff := cmp.Diff(wantHead, head); diff != "" {
				t.Errorf("agent, protocol, model, scenario, question (-want +got):\n%s", diff)
			}

			wantPlan := trajectory.Plan{Text: plan, Steps: steps, Ran: true}
			if review {
				wantPlan.Review = &trajectory.Review{Status: "valid", Reasoning: "each step fits its agent", Suggestions: "none"}
			}
			if diff := cmp.Diff([]trajectory.Plan{wantPlan}, tr.Plans); diff != "" {
				t.Errorf("plans (-want +got):\n%s", diff)
			}

			wantSteps := []stepView{
				{Kind: trajectory.KindAgent, Agent: "iot", Tool: "iot", PlanStep: 1, Answer: "done: List the sites", SubStatus: trajectory.StatusAnswered, SubTools: []string{"iot.sites"}},
				{Kind: trajectory.KindAgent, Agent: "wo", Tool: "wo", PlanStep: 2, Answer: "done: List the work orders of Chiller 6", SubStatus: trajectory.StatusAnswered, SubTools: []string{"iot.sites"}},
				{Kind: trajectory.KindAgent, Agent: "iot", Tool: "iot", PlanStep: 3, Answer: "done: Compare the sites with the work orders", SubStatus: trajectory.StatusAnswered, SubTools: []string{"iot.sites"}},
			}
			if diff := cmp.Diff(wantSteps, viewSteps(t, tr.Steps)); diff != "" {
				t.Fatalf("steps (-want +got):\n%s", diff)
			}
			for i, s := range tr.Steps {
				if s.Sub == nil || s.Sub.Agent != steps[i].Agent || s.Sub.Question != request(t, s) {
					t.Errorf("step %d: sub-run %+v does not run the step's request for agent %s", i+1, s.Sub, steps[i].Agent)
				}
			}

			// Independent steps get their task alone; step 3 gets the
			// results of 1 and 2 after the marker.
			for i := range 2 {
				if got := request(t, tr.Steps[i]); got != steps[i].Task {
					t.Errorf("step %d request %q, want the task alone", i+1, got)
				}
			}
			req3 := request(t, tr.Steps[2])
			task3, context3, ok := strings.Cut(req3, planexec.ContextMarker)
			if !ok || task3 != steps[2].Task {
				t.Errorf("step 3 request %q, want the task then %q", req3, planexec.ContextMarker)
			}
			for _, a := range []string{"done: List the sites", "done: List the work orders of Chiller 6"} {
				if !strings.Contains(context3, a) {
					t.Errorf("step 3 context %q lacks the answer %q", context3, a)
				}
			}

			// Each step's agent ran in its own lane; step 3's model saw the
			// context.
			if diff := cmp.Diff([]string{"step-1", "step-2", "step-3"}, m.lanes()); diff != "" {
				t.Errorf("forked lanes (-want +got):\n%s", diff)
			}
			for _, c := range m.byRole(roleDomain) {
				want := map[string]string{steps[0].Task: "step-1", steps[1].Task: "step-2", steps[2].Task: "step-3"}
				task, _, _ := strings.Cut(c.Req.Messages[1].Content, planexec.ContextMarker)
				if c.Lane != want[task] {
					t.Errorf("the request for %q came through lane %q, want %q", task, c.Lane, want[task])
				}
				if task == steps[2].Task && c.Req.Messages[1].Content != req3 {
					t.Errorf("step 3's model saw %q, want %q", c.Req.Messages[1].Content, req3)
				}
			}

			// The planner saw the agents and the question; the reviewer the
			// plan; the summariser every step's result.
			planners := m.byRole(rolePlanner)
			if len(planners) != 1 {
				t.Fatalf("%d planner calls, want 1", len(planners))
			}
			if sys := planners[0].Req.Messages[0].Content; !strings.Contains(sys, "- iot (IoT Data Download): ") || !strings.Contains(sys, "- wo (Work Order Management): ") || strings.Contains(sys, "- user:") {
				t.Errorf("planner system prompt lists the agents wrongly:\n%s", sys)
			}
			if got := lastContent(planners[0].Req); got != tr.Question {
				t.Errorf("planner question %q", got)
			}
			reviewers := m.byRole(roleReviewer)
			if !review && len(reviewers) != 0 {
				t.Errorf("%d reviewer calls without Review", len(reviewers))
			}
			if review {
				if len(reviewers) != 1 {
					t.Fatalf("%d reviewer calls, want 1", len(reviewers))
				}
				if r := reviewers[0].Req; !strings.Contains(lastContent(r), plan) || string(r.Format) != `"json"` {
					t.Errorf("reviewer request (format %s) lacks the plan:\n%s", r.Format, lastContent(r))
				}
			}
			summaries := m.byRole(roleSummary)
			if len(summaries) != 1 {
				t.Fatalf("%d summariser calls, want 1", len(summaries))
			}
			for _, s := range tr.Steps {
				var obs struct {
					Answer string `json:"answer"`
				}
				_ = json.Unmarshal(s.Observation, &obs)
				if !strings.Contains(lastContent(summaries[0].Req), obs.Answer) {
					t.Errorf("summariser request lacks step %d's answer %q:\n%s", s.PlanStep, obs.Answer, lastContent(summaries[0].Req))
				}
			}
			for _, c := range m.recorded() {
				if c.Req.Model != "scripted" || c.Req.Options.Seed == nil {
					t.Errorf("%s call has model %q, options %+v; want the orchestrator's", c.Role, c.Req.Model, c.Req.Options)
				}
			}

			// Every model call is counted once: planner, reviewer, two
			// turns per sub-agent, summariser.
			wantCalls := 1 + 3*2 + 1
			if review {
				wantCalls++
			}
			if got := len(m.recorded()); got != wantCalls {
				t.Errorf("%d model calls, want %d", got, wantCalls)
			}
			if tr.Usage.Calls != wantCalls || tr.Usage.PromptTokens != 10*wantCalls || tr.Usage.CompletionTokens != 2*wantCalls {
				t.Errorf("usage %+v, want %d calls", tr.Usage, wantCalls)
			}
		})
	}
}

// barrier holds the first turn of each domain agent until need of them
// have started, and tracks how many are in a call at once.
type barrier struct {
	need    int
	hold    time.Duration // how long a call stays in, after the barrier
	timeout time.Duration

	mu            sync.Mutex
	arrived       int
	inFlight, max int
	all           chan struct{} // closed when need have arrived
}

func newBarrier(need int, hold time.Duration) *barrier {
	return &barrier{need: need, hold: hold, timeout: 5 * time.Second, all: make(chan struct{})}
}

func (b *barrier) domain(ctx context.Context, c domainCall) (llm.Message, error) {
	b.mu.Lock()
	b.arrived++
	b.inFlight++
	b.max = max(b.max, b.inFlight)
	if b.arrived == b.need {
		close(b.all)
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inFlight--
		b.mu.Unlock()
	}()
	select {
	case <-b.all:
	case <-time.After(b.timeout):
		b.mu.Lock()
		n := b.arrived
		b.mu.Unlock()
		return llm.Message{}, fmt.Errorf("barrier: %d of %d steps started within %v: the steps ran serially", n, b.need, b.timeout)
	case <-ctx.Done():
		return llm.Message{}, ctx.Err()
	}
	time.Sleep(b.hold)
	return answerTask(ctx, c)
}

func (b *barrier) maxInFlight() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.max
}

// Independent steps run in parallel, at most Concurrency at a time, and are
// recorded in plan order.
func TestRunParallel(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		steps       int
		need        int // domain calls that must be in flight together
		want        int // the most calls in flight at once
	}{
		{name: "concurrency 2, two steps", concurrency: 2, steps: 2, need: 2, want: 2},
		{name: "default concurrency, two steps", concurrency: 0, steps: 2, need: planexec.DefaultConcurrency, want: planexec.DefaultConcurrency},
		{name: "concurrency 2, four steps", concurrency: 2, steps: 4, need: 2, want: 2},
		{name: "concurrency 3, four steps", concurrency: 3, steps: 4, need: 3, want: 3},
		{name: "concurrency 1, two steps", concurrency: 1, steps: 2, need: 1, want: 1},
		{name: "concurrency 1, four steps", concurrency: 1, steps: 4, need: 1, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var steps []trajectory.PlanStep
			var wantLanes []string
			for n := 1; n <= tt.steps; n++ {
				steps = append(steps, step(n, []string{"iot", "wo"}[n%2], fmt.Sprintf("task %d", n)))
				wantLanes = append(wantLanes, fmt.Sprintf("step-%d", n))
			}
			b := newBarrier(tt.need, 20*time.Millisecond)
			m := &roleModel{planner: []string{planText(steps...)}, summary: "ok", domain: b.domain}
			o := orchestrator(t, m)
			o.Concurrency = tt.concurrency
			tr, err := run(t, o, "q")
			if err != nil {
				t.Fatal(err)
			}
			if tr.Status != trajectory.StatusAnswered {
				t.Fatalf("status %s (%s), want answered", tr.Status, tr.Error)
			}
			if got := b.maxInFlight(); got != tt.want {
				t.Errorf("%d domain calls in flight at most, want %d", got, tt.want)
			}
			var got []int
			for _, s := range tr.Steps {
				got = append(got, s.PlanStep)
			}
			var want []int
			for n := 1; n <= tt.steps; n++ {
				want = append(want, n)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("plan steps recorded (-want +got):\n%s", diff)
			}
			for i, s := range tr.Steps {
				if s.Sub == nil || s.Sub.FinalAnswer != "done: "+steps[i].Task {
					t.Errorf("step %d ran %+v, want the answer to %q", i+1, s.Sub, steps[i].Task)
				}
			}
			if diff := cmp.Diff(wantLanes, m.lanes()); diff != "" {
				t.Errorf("forked lanes (-want +got):\n%s", diff)
			}
			for _, c := range m.byRole(roleDomain) {
				var n int
				fmt.Sscanf(c.Req.Messages[1].Content, "task %d", &n)
				if want := fmt.Sprintf("step-%d", n); c.Lane != want {
					t.Errorf("%q ran in lane %q, want %q", c.Req.Messages[1].Content, c.Lane, want)
				}
			}
		})
	}
}

// A plan that does not parse is recorded with its error and re-planned with
// the error as feedback; when no attempt parses the run ends with status
// error, and Run does not fail.
func TestRunMalformedPlans(t *testing.T) {
	good := planText(step(1, "iot", "List the sites"))
	tests := []struct {
		name        string
		maxPlans    int
		replies     []string
		wantErrs    []string // each attempt's Plan.Error, "" for a plan that parsed
		wantStatus  string
		wantTrError []string // substrings of the trajectory's Error
	}{
		{
			name:       "no steps, then a good plan",
			replies:    []string{"I would list the sites first.", good},
			wantErrs:   []string{"no plan steps found", ""},
			wantStatus: trajectory.StatusAnswered,
		},
		{
			name:       "unknown agent, then a good plan",
			replies:    []string{"#Task1: List the sites\n#Agent1: sites-bot", good},
			wantErrs:   []string{`unknown agent "sites-bot"`, ""},
			wantStatus: trajectory.StatusAnswered,
		},
		{
			name:        "three malformed replies",
			maxPlans:    3,
			replies:     []string{"", "Step one: list the sites.", "#Task1: List the sites\n#Agent1: sites-bot"},
			wantErrs:    []string{"no plan steps found", "no plan steps found", `unknown agent "sites-bot"`},
			wantStatus:  trajectory.StatusError,
			wantTrError: []string{"no usable plan", "after 3 attempts", `unknown agent "sites-bot"`},
		},
		{
			name:        "default attempts",
			replies:     []string{"#Task1: a\n#Agent1: iot\n#Dependency1: #S1"},
			wantErrs:    []string{"depends on step 1", "depends on step 1", "depends on step 1"},
			wantStatus:  trajectory.StatusError,
			wantTrError: []string{fmt.Sprintf("no usable plan after %d attempts", planexec.DefaultMaxPlans)},
		},
		{
			name:        "one attempt",
			maxPlans:    1,
			replies:     []string{"nothing"},
			wantErrs:    []string{"no plan steps found"},
			wantStatus:  trajectory.StatusError,
			wantTrError: []string{"no usable plan after 1 attempts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &roleModel{planner: tt.replies, summary: "The site is MAIN."}
			o := orchestrator(t, m)
			o.MaxPlans = tt.maxPlans
			tr, err := run(t, o, "Which sites are there?")
			if err != nil {
				t.Fatalf("Run: %v; a bad plan is a run outcome, not an error", err)
			}
			if tr.Status != tt.wantStatus {
				t.Errorf("status %q (%s), want %q", tr.Status, tr.Error, tt.wantStatus)
			}
			if len(tr.Plans) != len(tt.wantErrs) {
				t.Fatalf("%d plans, want %d: %+v", len(tr.Plans), len(tt.wantErrs), tr.Plans)
			}
			for i, p := range tr.Plans {
				if p.Text != nth(tt.replies, i) {
					t.Errorf("plan %d text %q, want the reply %q", i+1, p.Text, nth(tt.replies, i))
				}
				if w := tt.wantErrs[i]; (w == "") != (p.Error == "") || !strings.Contains(p.Error, w) {
					t.Errorf("plan %d error %q, want %q", i+1, p.Error, w)
				}
				if (p.Error == "") != (len(p.Steps) > 0) || p.Review != nil {
					t.Errorf("plan %d: %d steps, review %+v with error %q", i+1, len(p.Steps), p.Review, p.Error)
				}
			}
			planners := m.byRole(rolePlanner)
			if len(planners) != len(tt.wantErrs) {
				t.Fatalf("%d planner calls, want %d", len(planners), len(tt.wantErrs))
			}
			// Each re-plan shows the model its reply and what was wrong.
			for i := 1; i < len(planners); i++ {
				msgs := planners[i].Req.Messages
				if len(msgs) != 2+2*i {
					t.Fatalf("planner call %d has %d messages, want %d", i+1, len(msgs), 2+2*i)
				}
				prev, fb := msgs[len(msgs)-2], msgs[len(msgs)-1]
				if prev.Role != "assistant" || prev.Content != tr.Plans[i-1].Text {
					t.Errorf("planner call %d: previous reply %+v", i+1, prev)
				}
				if fb.Role != "user" || !strings.Contains(fb.Content, "could not be used") || !strings.Contains(fb.Content, tr.Plans[i-1].Error) {
					t.Errorf("planner call %d feedback %q lacks the error %q", i+1, fb.Content, tr.Plans[i-1].Error)
				}
			}
			if tt.wantStatus == trajectory.StatusError {
				if len(tr.Steps) != 0 || tr.FinalAnswer != "" {
					t.Errorf("%d steps, answer %q; want none", len(tr.Steps), tr.FinalAnswer)
				}
				if n := len(m.recorded()); n != len(tt.wantErrs) {
					t.Errorf("%d model calls, want only the %d planner calls", n, len(tt.wantErrs))
				}
				if tr.Usage.Calls != len(tt.wantErrs) {
					t.Errorf("usage %+v, want %d calls", tr.Usage, len(tt.wantErrs))
				}
			} else if tr.FinalAnswer != "The site is MAIN." || len(tr.Steps) != 1 {
				t.Errorf("answer %q after %d steps", tr.FinalAnswer, len(tr.Steps))
			}
			for _, w := range tt.wantTrError {
				if !strings.Contains(tr.Error, w) {
					t.Errorf("trajectory error %q does not mention %q", tr.Error, w)
				}
			}
		})
	}
}

// The reviewer's verdict decides whether a plan runs: invalid is re-planned
// with the reasoning and suggestions, unreadable is accepted, and when the
// attempts run out the last plan runs.
func TestRunReview(t *testing.T) {
	planA := planText(step(1, "iot", "Do something abstract"))
	planB := planText(step(1, "iot", "List the sites"), step(2, "wo", "List the work orders at MAIN", 1))
	planC := planText(step(1, "wo", "List the work orders at MAIN"))
	invalid := reviewJSON("invalid", "step 1 is abstract", "name the site MAIN")
	valid := reviewJSON("valid", "ok", "")
	tests := []struct {
		name       string
		maxPlans   int
		planner    []string
		reviews    []string
		wantPlans  []trajectory.Plan
		wantTasks  []string // the tasks that ran
		wantReplan bool     // the second planner call carries the review
	}{
		{
			name:    "invalid, then valid",
			planner: []string{planA, planB},
			reviews: []string{invalid, valid},
			wantPlans: []trajectory.Plan{
				{Text: planA, Review: &trajectory.Review{Status: "invalid", Reasoning: "step 1 is abstract", Suggestions: "name the site MAIN"}},
				{Text: planB, Review: &trajectory.Review{Status: "valid", Reasoning: "ok"}, Ran: true},
			},
			wantTasks:  []string{"List the sites", "List the work orders at MAIN"},
			wantReplan: true,
		},
		{
			name:     "always invalid: the last plan runs",
			maxPlans: 3,
			planner:  []string{planA, planB, planC},
			reviews:  []string{invalid},
			wantPlans: []trajectory.Plan{
				{Text: planA, Review: &trajectory.Review{Status: "invalid", Reasoning: "step 1 is abstract", Suggestions: "name the site MAIN"}},
				{Text: planB, Review: &trajectory.Review{Status: "invalid", Reasoning: "step 1 is abstract", Suggestions: "name the site MAIN"}},
				{Text: planC, Review: &trajectory.Review{Status: "invalid", Reasoning: "step 1 is abstract", Suggestions: "name the site MAIN"}, Ran: true},
			},
			wantTasks:  []string{"List the work orders at MAIN"},
			wantReplan: true,
		},
		{
			name:      "unreadable review: the plan runs",
			planner:   []string{planB},
			reviews:   []string{"The plan looks fine to me."},
			wantPlans: []trajectory.Plan{{Text: planB, Review: &trajectory.Review{Status: "unreadable", Text: "The plan looks fine to me."}, Ran: true}},
			wantTasks: []string{"List the sites", "List the work orders at MAIN"},
		},
		{
			name:      "review in prose around JSON, status in capitals",
			planner:   []string{planB},
			reviews:   []string{"Here is my review:\n```json\n{\"Status\": \"Valid\", \"Reasoning\": \"fine\"}\n```"},
			wantPlans: []trajectory.Plan{{Text: planB, Review: &trajectory.Review{Status: "valid", Reasoning: "fine"}, Ran: true}},
			wantTasks: []string{"List the sites", "List the work orders at MAIN"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &roleModel{planner: tt.planner, reviews: tt.reviews, summary: "answer"}
			o := orchestrator(t, m)
			o.Review, o.MaxPlans = true, tt.maxPlans
			tr, err := run(t, o, "What work orders are open at MAIN?")
			if err != nil {
				t.Fatal(err)
			}
			if tr.Status != trajectory.StatusAnswered || tr.FinalAnswer != "answer" {
				t.Errorf("status %q (%s), answer %q; want answered", tr.Status, tr.Error, tr.FinalAnswer)
			}
			// Compare the plans without their parsed steps (TestRun checks
			// those).
			var got []trajectory.Plan
			for i, p := range tr.Plans {
				if len(p.Steps) == 0 {
					t.Errorf("plan %d has no steps", i+1)
				}
				p.Steps = nil
				got = append(got, p)
			}
			if diff := cmp.Diff(tt.wantPlans, got); diff != "" {
				t.Errorf("plans (-want +got):\n%s", diff)
			}
			var tasks []string
			for _, s := range tr.Steps {
				tasks = append(tasks, request(t, s))
				tasks[len(tasks)-1], _, _ = strings.Cut(tasks[len(tasks)-1], planexec.ContextMarker)
			}
			if diff := cmp.Diff(tt.wantTasks, tasks); diff != "" {
				t.Errorf("tasks run (-want +got):\n%s", diff)
			}
			planners := m.byRole(rolePlanner)
			if len(planners) != len(tt.wantPlans) {
				t.Fatalf("%d planner calls, want %d", len(planners), len(tt.wantPlans))
			}
			if tt.wantReplan {
				fb := lastContent(planners[1].Req)
				for _, w := range []string{"reviewer found the plan invalid", "Reasoning: step 1 is abstract", "Suggestions: name the site MAIN"} {
					if !strings.Contains(fb, w) {
						t.Errorf("second planner request %q lacks %q", fb, w)
					}
				}
			}
			var reviewed int
			for _, p := range tt.wantPlans {
				if p.Review != nil {
					reviewed++
				}
			}
			if n := len(m.byRole(roleReviewer)); n != reviewed {
				t.Errorf("%d reviewer calls, want %d (plans that did not parse are not reviewed)", n, reviewed)
			}
		})
	}
}

var errReset = errors.New("connection reset by peer")

// A model error ends the run with status error, and Run returns it wrapped:
// it is a harness failure, unlike a bad plan. Steps still running are
// cancelled, and nothing is left running.
func TestRunModelError(t *testing.T) {
	plan := planText(
		step(1, "iot", "task 1"),
		step(2, "wo", "task 2"),
		step(3, "iot", "task 3", 1, 2),
	)
	tests := []struct {
		name      string
		setup     func(m *roleModel)
		review    bool
		wantIn    []string // substrings of the error
		wantPlans int
		wantSteps bool // steps 1 and 2 are recorded
	}{
		{
			name: "sub-agent fails on its first turn",
			setup: func(m *roleModel) {
				m.domain = func(ctx context.Context, c domainCall) (llm.Message, error) {
					if c.Task == "task 1" {
						return llm.Message{}, errReset
					}
					return answerTask(ctx, c)
				}
			},
			wantIn:    []string{"plan step 1", errReset.Error()},
			wantPlans: 1,
		},
		{
			name: "sub-agent fails after a tool call",
			setup: func(m *roleModel) {
				m.domain = func(ctx context.Context, c domainCall) (llm.Message, error) {
					if c.Task == "task 2" && c.Turn == 1 {
						return llm.Message{}, errReset
					}
					return toolThenAnswer(ctx, c)
				}
			},
			wantIn:    []string{"plan step 2", errReset.Error()},
			wantPlans: 1,
		},
		{
			// Step 2 is in a model call when step 1 fails: it is
			// cancelled, and Run reports step 1's error, not the
			// cancellation.
			name: "sub-agent fails while a parallel step waits on the model",
			setup: func(m *roleModel) {
				started := make(chan struct{})
				m.domain = func(ctx context.Context, c domainCall) (llm.Message, error) {
					switch c.Task {
					case "task 1":
						select {
						case <-started:
						case <-time.After(5 * time.Second):
							return llm.Message{}, errors.New("step 2 never started")
						}
						return llm.Message{}, errReset
					case "task 2":
						close(started)
						select {
						case <-ctx.Done():
							return llm.Message{}, ctx.Err()
						case <-time.After(10 * time.Second):
							return llm.Message{}, errors.New("step 2 was not cancelled")
						}
					}
					return answerTask(ctx, c)
				}
			},
			wantIn:    []string{"plan step 1", errReset.Error()},
			wantPlans: 1,
			wantSteps: true,
		},
		{
			name:      "planner fails",
			setup:     func(m *roleModel) { m.plannerErr = errReset },
			wantIn:    []string{errReset.Error()},
			wantPlans: 0,
		},
		{
			name:      "reviewer fails",
			setup:     func(m *roleModel) { m.reviewErr = errReset },
			review:    true,
			wantIn:    []string{errReset.Error()},
			wantPlans: 1,
		},
		{
			name:      "summariser fails",
			setup:     func(m *roleModel) { m.summaryErr = errReset },
			wantIn:    []string{errReset.Error()},
			wantPlans: 1,
			wantSteps: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &roleModel{planner: []string{plan}, reviews: []string{reviewJSON("valid", "", "")}, summary: "answer"}
			tt.setup(m)
			o := orchestrator(t, m)
			o.Review = tt.review
			start := time.Now()
			tr, err := run(t, o, "q")
			if !errors.Is(err, errReset) {
				t.Fatalf("Run error %v, want one wrapping %v", err, errReset)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Run took %v to fail", elapsed)
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tr.Status != trajectory.StatusError || !strings.Contains(tr.Error, errReset.Error()) || tr.FinalAnswer != "" {
				t.Errorf("status %q, error %q, answer %q; want error", tr.Status, tr.Error, tr.FinalAnswer)
			}
			if len(tr.Plans) != tt.wantPlans {
				t.Errorf("%d plans, want %d", len(tr.Plans), tt.wantPlans)
			}
			// Steps that ran are recorded in plan order.
			for i := 1; i < len(tr.Steps); i++ {
				if tr.Steps[i].PlanStep <= tr.Steps[i-1].PlanStep {
					t.Errorf("steps out of plan order: %d after %d", tr.Steps[i].PlanStep, tr.Steps[i-1].PlanStep)
				}
			}
			if tt.wantSteps {
				views := viewSteps(t, tr.Steps)
				if len(views) < 2 || views[0].PlanStep != 1 || views[1].PlanStep != 2 {
					t.Fatalf("steps %+v, want steps 1 and 2 recorded", views)
				}
			}
			for _, s := range tr.Steps {
				if s.Sub == nil {
					t.Errorf("step %d has no sub-run", s.PlanStep)
					continue
				}
				if (s.Sub.Status == trajectory.StatusError) != (s.Sub.Error != "") {
					t.Errorf("step %d sub-run status %q, error %q", s.PlanStep, s.Sub.Status, s.Sub.Error)
				}
			}
			// Only calls that returned are counted.
			var ok int
			for _, c := range m.recorded() {
				if c.Err == nil {
					ok++
				}
			}
			if tr.Usage.Calls != ok {
				t.Errorf("usage %+v, want %d calls (the ones that returned)", tr.Usage, ok)
			}
		})
	}
}

// asker answers every clarifying question with the same reply.
type asker struct {
	reply     string
	mu        sync.Mutex
	questions []string
}

func (a *asker) Answer(_ context.Context, q string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.questions = append(a.questions, q)
	return a.reply
}

// A step for the user agent is a clarifying question; its answer is the
// context of the steps that depend on it.
func TestRunUserAgent(t *testing.T) {
	const question = "Which chiller do you mean?"
	plan := planText(
		step(1, planexec.UserAgent, question),
		step(2, "iot", "List the sensors of the chiller the user named", 1),
	)
	ask := &asker{reply: "Chiller 9"}
	m := &roleModel{planner: []string{plan}, summary: "Chiller 9 has 5 sensors."}
	o := orchestrator(t, m)
	o.Ask = ask
	tr, err := run(t, o, "List the sensors of the chiller.")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != trajectory.StatusAnswered || tr.FinalAnswer != "Chiller 9 has 5 sensors." {
		t.Errorf("status %q (%s), answer %q", tr.Status, tr.Error, tr.FinalAnswer)
	}
	want := []stepView{
		{Kind: trajectory.KindAsk, Agent: planexec.UserAgent, Tool: trajectory.AskTool, PlanStep: 1, Answer: "Chiller 9"},
		{Kind: trajectory.KindAgent, Agent: "iot", Tool: "iot", PlanStep: 2, Answer: "done: List the sensors of the chiller the user named", SubStatus: trajectory.StatusAnswered},
	}
	if diff := cmp.Diff(want, viewSteps(t, tr.Steps)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	var args struct{ Question string }
	if err := json.Unmarshal(tr.Steps[0].Args, &args); err != nil || args.Question != question {
		t.Errorf("ask step args %s, want the question %q", tr.Steps[0].Args, question)
	}
	if diff := cmp.Diff([]string{question}, ask.questions); diff != "" {
		t.Errorf("questions asked (-want +got):\n%s", diff)
	}
	if req := request(t, tr.Steps[1]); !strings.Contains(req, planexec.ContextMarker) || !strings.Contains(req, "Chiller 9") {
		t.Errorf("step 2 request %q lacks the user's answer", req)
	}
	domain := m.byRole(roleDomain)
	if len(domain) != 1 || !strings.Contains(domain[0].Req.Messages[1].Content, "Chiller 9") {
		t.Errorf("the domain agent's model did not see the user's answer: %+v", domain)
	}
	if diff := cmp.Diff([]string{"step-2"}, m.lanes()); diff != "" {
		t.Errorf("forked lanes (-want +got):\n%s", diff)
	}
	if s := m.byRole(roleSummary); len(s) != 1 || !strings.Contains(lastContent(s[0].Req), "Chiller 9") {
		t.Errorf("the summariser did not see the user's answer")
	}
	if sys := m.byRole(rolePlanner)[0].Req.Messages[0].Content; !strings.Contains(sys, "\n- "+planexec.UserAgent+": ") {
		t.Errorf("planner system prompt does not offer the user agent:\n%s", sys)
	}
	// The question is no model call.
	if tr.Usage.Calls != 3 {
		t.Errorf("usage %+v, want 3 calls: planner, step 2, summariser", tr.Usage)
	}
}

// Without Ask the user agent is not offered, and a plan naming it is
// refused like any unknown agent.
func TestRunUserAgentWithoutAsk(t *testing.T) {
	plan := planText(step(1, planexec.UserAgent, "Which chiller do you mean?"), step(2, "iot", "List the sensors", 1))
	m := &roleModel{planner: []string{plan}, summary: "answer"}
	o := orchestrator(t, m)
	o.MaxPlans = 2
	tr, err := run(t, o, "List the sensors of the chiller.")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != trajectory.StatusError || !strings.Contains(tr.Error, "no usable plan") {
		t.Errorf("status %q, error %q; want no usable plan", tr.Status, tr.Error)
	}
	if len(tr.Plans) != 2 || !strings.Contains(tr.Plans[0].Error, `unknown agent "user"`) {
		t.Errorf("plans %+v, want two refused for the unknown agent user", tr.Plans)
	}
	if len(tr.Steps) != 0 {
		t.Errorf("%d steps ran", len(tr.Steps))
	}
	if sys := m.byRole(rolePlanner)[0].Req.Messages[0].Content; strings.Contains(sys, "- "+planexec.UserAgent+":") {
		t.Errorf("planner system prompt offers the user agent without Ask:\n%s", sys)
	}
}

// A distractor agent answers every task with its canned reply, without a
// model call.
func TestRunDistractor(t *testing.T) {
	plan := planText(
		step(1, "Weather Forecast", "Get the weather at MAIN"), // by title
		step(2, "iot", "Find the chillers that suffer in hot weather", 1),
	)
	m := &roleModel{planner: []string{plan}, summary: "answer"}
	o := orchestrator(t, m)
	o.Agents = append(o.Agents, planexec.Agent{Name: "weather", Title: "Weather Forecast", Description: "forecasts the weather", Canned: "It will be sunny, 31 C."})
	tr, err := run(t, o, "Which chillers suffer in the heat?")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != trajectory.StatusAnswered {
		t.Fatalf("status %q (%s)", tr.Status, tr.Error)
	}
	if len(tr.Plans) != 1 || tr.Plans[0].Steps[0].Agent != "weather" {
		t.Errorf("plans %+v, want step 1 for the weather agent", tr.Plans)
	}
	want := []stepView{
		{Kind: trajectory.KindAgent, Agent: "weather", Tool: "weather", PlanStep: 1, Answer: "It will be sunny, 31 C."},
		{Kind: trajectory.KindAgent, Agent: "iot", Tool: "iot", PlanStep: 2, Answer: "done: Find the chillers that suffer in hot weather", SubStatus: trajectory.StatusAnswered},
	}
	if diff := cmp.Diff(want, viewSteps(t, tr.Steps)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	var obs map[string]string
	if err := json.Unmarshal(tr.Steps[0].Observation, &obs); err != nil || obs["status"] != "completed" {
		t.Errorf("distractor observation %s", tr.Steps[0].Observation)
	}
	if got := request(t, tr.Steps[0]); got != "Get the weather at MAIN" {
		t.Errorf("distractor request %q", got)
	}
	if req := request(t, tr.Steps[1]); !strings.Contains(req, "It will be sunny, 31 C.") {
		t.Errorf("step 2 request %q lacks the canned reply", req)
	}
	if diff := cmp.Diff([]string{"step-2"}, m.lanes()); diff != "" {
		t.Errorf("forked lanes (-want +got):\n%s", diff)
	}
	if tr.Usage.Calls != 3 {
		t.Errorf("usage %+v, want 3 calls: planner, step 2, summariser", tr.Usage)
	}
	if sys := m.byRole(rolePlanner)[0].Req.Messages[0].Content; !strings.Contains(sys, "- weather (Weather Forecast): forecasts the weather") {
		t.Errorf("planner system prompt does not list the distractor:\n%s", sys)
	}
}

// A model without Fork is used as it is, by every step.
func TestRunWithoutFork(t *testing.T) {
	m := &roleModel{planner: []string{planText(step(1, "iot", "task 1"), step(2, "wo", "task 2"))}, summary: "answer"}
	o := orchestrator(t, m)
	o.Model = noFork{m}
	tr, err := run(t, o, "q")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != trajectory.StatusAnswered || len(tr.Steps) != 2 {
		t.Fatalf("status %q with %d steps", tr.Status, len(tr.Steps))
	}
	if lanes := m.lanes(); len(lanes) != 0 {
		t.Errorf("forked %v", lanes)
	}
	for _, c := range m.recorded() {
		if c.Lane != "" {
			t.Errorf("%s call in lane %q", c.Role, c.Lane)
		}
	}
}

// noFork hides roleModel's Fork.
type noFork struct{ m *roleModel }

func (n noFork) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	return n.m.Chat(ctx, req)
}

func (n noFork) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	return n.m.Embed(ctx, req)
}

func (n noFork) Show(ctx context.Context, model string) (*llm.ModelInfo, error) {
	return n.m.Show(ctx, model)
}

// A step whose dependency failed never starts: the steps recorded after a
// failure are the same on every run.
func TestRunDependencyFailedNeverStarts(t *testing.T) {
	plan := planText(
		step(1, "iot", "task 1"),
		step(2, "wo", "task 2"),
		step(3, "iot", "task 3", 1, 2),
	)
	for i := range 50 {
		m := &roleModel{planner: []string{plan}, summary: "answer"}
		m.domain = func(ctx context.Context, c domainCall) (llm.Message, error) {
			if c.Task == "task 1" {
				return llm.Message{}, errReset
			}
			return answerTask(ctx, c)
		}
		tr, err := run(t, orchestrator(t, m), "q")
		if !errors.Is(err, errReset) {
			t.Fatalf("run %d: err %v", i, err)
		}
		for _, st := range tr.Steps {
			if st.PlanStep == 3 {
				t.Fatalf("run %d: step 3 ran although step 1 failed", i)
			}
		}
	}
}

// The plan marked Ran is the one that ran, even when a later attempt did
// not parse; the run's protocol is native when the agents leave it unset.
func TestRunMarksThePlanThatRan(t *testing.T) {
	good := planText(step(1, "iot", "List the sites"))
	m := &roleModel{planner: []string{good, "no plan here"}, reviews: []string{`{"status":"invalid","reasoning":"r","suggestions":"s"}`}, summary: "answer"}
	o := orchestrator(t, m)
	o.Review, o.MaxPlans = true, 2
	for i := range o.Agents {
		o.Agents[i].Runner.Protocol = ""
	}
	tr, err := run(t, o, "q")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Plans) != 2 || !tr.Plans[0].Ran || tr.Plans[1].Ran || tr.Plans[1].Error == "" {
		t.Errorf("plans: %+v", tr.Plans)
	}
	if len(tr.Steps) != 1 || tr.Steps[0].PlanStep != 1 {
		t.Errorf("steps %+v", tr.Steps)
	}
	if tr.Protocol != trajectory.ProtocolNative {
		t.Errorf("protocol %q, want native", tr.Protocol)
	}
}
