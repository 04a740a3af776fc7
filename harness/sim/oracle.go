package sim

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/assetops/assetops/agents/planexec"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/agents/system"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/scenarios"
	"github.com/ollama/ollama/api"
)

// Oracle plays each scenario's gold trajectory in whatever role the request
// gives it, on either protocol:
//
//   - a single ReAct agent: one gold call a turn, then the gold answer;
//   - the Tool-As-Agent meta-agent: the gold calls grouped into runs of one
//     domain agent each, one agent call (or clarifying question) a turn;
//   - a domain agent: the calls of its group, then the gold answer if its
//     group is the last, else the last result;
//   - a planner: the groups as a plan; a reviewer: accepts; a summariser:
//     the gold answer when the results hold it.
//
// It finds the scenario by the conversation's first user message (the
// scenario text, or for a domain agent the request the oracle itself wrote)
// and the role by the system prompt. When the gold trajectory needs an
// action that is not offered — ask_user with asking off — it answers as an
// honest agent would: it says what it lacks.
type Oracle struct {
	byText    map[string]*script
	byRequest map[string]groupRef
	digest    string
}

type script struct {
	s      scenarios.Scenario
	groups []group
}

// group is a run of consecutive gold steps for one agent; utility steps
// join the group of the step before them (or after, at the start).
type group struct {
	agent   string // domain name, or "user" for a clarifying question
	steps   []scenarios.GoldStep
	request string // what the meta-agent or planner sends the agent
}

type groupRef struct {
	sc *script
	g  int
}

// NewOracle returns an oracle over the scenarios that have a gold trajectory.
func NewOracle(ss []scenarios.Scenario) *Oracle {
	o := &Oracle{byText: map[string]*script{}, byRequest: map[string]groupRef{}}
	var golds []any
	for _, s := range ss {
		if s.Gold == nil {
			continue
		}
		sc := &script{s: s, groups: groups(s)}
		o.byText[strings.TrimSpace(s.Text)] = sc
		for i, g := range sc.groups {
			if g.agent != planexec.UserAgent {
				o.byRequest[g.request] = groupRef{sc, i}
			}
		}
		golds = append(golds, []any{s.ID, s.Text, s.Gold})
	}
	o.digest = fingerprint(golds)
	return o
}

func groups(s scenarios.Scenario) []group {
	var gs []group
	pendingUtil := []scenarios.GoldStep{}
	for _, st := range s.Gold.Steps {
		agent := tools.AgentOf(st.Tool)
		switch {
		case st.Tool == trajectory.AskTool:
			agent = planexec.UserAgent
		case agent == "util":
			if len(gs) > 0 && gs[len(gs)-1].agent != planexec.UserAgent {
				gs[len(gs)-1].steps = append(gs[len(gs)-1].steps, st)
			} else {
				pendingUtil = append(pendingUtil, st)
			}
			continue
		}
		if len(gs) == 0 || gs[len(gs)-1].agent != agent || agent == planexec.UserAgent {
			gs = append(gs, group{agent: agent})
		}
		g := &gs[len(gs)-1]
		if agent != planexec.UserAgent {
			g.steps = append(g.steps, pendingUtil...)
			pendingUtil = pendingUtil[:0]
		}
		g.steps = append(g.steps, st)
	}
	if len(pendingUtil) > 0 {
		// Only utility steps: the IoT agent carries them.
		gs = append(gs, group{agent: "iot", steps: pendingUtil})
	}
	seen := map[string]int{}
	for i := range gs {
		g := &gs[i]
		if g.agent == planexec.UserAgent {
			g.request = askQuestion(g.steps[0])
			continue
		}
		var thoughts []string
		for _, st := range g.steps {
			if st.Thought != "" {
				thoughts = append(thoughts, strings.TrimSuffix(strings.TrimSpace(st.Thought), "."))
			}
		}
		req := strings.Join(strings.Fields(strings.Join(thoughts, "; ")+". For the question: "+s.Text), " ")
		if seen[req]++; seen[req] > 1 {
			req += fmt.Sprintf(" (part %d)", seen[req])
		}
		g.request = req
	}
	return gs
}

func askQuestion(st scenarios.GoldStep) string {
	var a struct {
		Question string `json:"question"`
	}
	_ = json.Unmarshal(st.Args, &a)
	return a.Question
}

// Fingerprint is a digest of the gold trajectories played.
func (o *Oracle) Fingerprint() string { return o.digest }

// noScript is the answer to a question the oracle has no script for, as a
// model without knowledge would give.
const noScript = "I have no reference trajectory for this request."

// Reply gives the next move of the role the request is for.
func (o *Oracle) Reply(req *api.ChatRequest) (api.Message, error) {
	c := readConversation(req)
	switch {
	case strings.HasPrefix(c.system, firstLine(planexec.PlannerPrompt)):
		return o.plan(c), nil
	case strings.HasPrefix(c.system, firstLine(planexec.ReviewerPrompt)):
		return api.Message{Content: `{"status": "valid", "reasoning": "The plan follows the reference trajectory.", "suggestions": ""}`}, nil
	case strings.HasPrefix(c.system, firstLine(react.ReviewPrompt)):
		return api.Message{Content: `{"status": "accomplished", "reasoning": "The run follows the reference trajectory.", "suggestions": ""}`}, nil
	case strings.HasPrefix(c.system, firstLine(planexec.SummaryPrompt)):
		return o.summary(c), nil
	case strings.HasPrefix(c.system, firstLine(system.MetaPrompt)):
		return o.meta(c)
	case strings.HasPrefix(c.system, strings.SplitN(system.DomainPrompt, "%s", 2)[0]):
		return o.domain(c)
	}
	return o.single(c)
}

// conversation is what the oracle reads of a request.
type conversation struct {
	req    *api.ChatRequest
	system string
	first  string // the first user message
	turns  int    // assistant messages so far: the agent's earlier moves
	last   string // the last tool result or observation
	text   bool   // the text protocol: tools are described in the prompt
}

func readConversation(req *api.ChatRequest) conversation {
	c := conversation{req: req}
	for _, m := range req.Messages {
		switch m.Role {
		case "system":
			if c.system == "" {
				c.system = m.Content
			}
		case "user":
			if c.first == "" {
				c.first = strings.TrimSpace(m.Content)
			} else if strings.HasPrefix(m.Content, "Observation:") {
				c.last = strings.TrimSpace(strings.TrimPrefix(m.Content, "Observation:"))
			}
		case "assistant":
			c.turns++
		case "tool":
			c.last = m.Content
		}
	}
	c.text = len(req.Tools) == 0 && strings.Contains(c.system, "Action Input:")
	return c
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

// offered reports whether the agent may call name: in the request's tools,
// or listed in the text protocol's instructions.
func (c conversation) offered(name string) bool {
	if c.text {
		return strings.Contains(c.system, ") "+name+":") || strings.Contains(c.system, ") "+name+"\n")
	}
	for _, t := range c.req.Tools {
		if t.Function.Name == name {
			return true
		}
	}
	return false
}

// call is the next move: a tool call, in the conversation's protocol.
func (c conversation) call(id, thought, name string, args json.RawMessage) (api.Message, error) {
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	if c.text {
		return api.Message{Content: react.FormatTextAction(react.TextReply{Thought: thought, Action: name, Input: args})}, nil
	}
	a := api.NewToolCallFunctionArguments()
	if err := json.Unmarshal(args, &a); err != nil {
		return api.Message{}, fmt.Errorf("%s: arguments: %w", id, err)
	}
	return api.Message{Content: thought, ToolCalls: []api.ToolCall{{
		ID: "call_" + id, Function: api.ToolCallFunction{Index: 0, Name: name, Arguments: a},
	}}}, nil
}

// answer is the final move, in the conversation's protocol.
func (c conversation) answer(text string) api.Message {
	if c.text {
		return api.Message{Content: react.FormatTextAction(react.TextReply{Thought: "I have what I need.", HasFinal: true, Final: text})}
	}
	return api.Message{Content: text}
}

// missing is the honest answer when the gold move is not offered.
func (c conversation) missing(name string, st scenarios.GoldStep) api.Message {
	if name == trajectory.AskTool {
		return c.answer("I need more information to answer this: " + askQuestion(st))
	}
	return c.answer(fmt.Sprintf("I cannot answer: the tool %s is not available.", name))
}

func (o *Oracle) single(c conversation) (api.Message, error) {
	sc, ok := o.byText[c.first]
	if !ok {
		return c.answer(noScript), nil
	}
	steps := sc.s.Gold.Steps
	if c.turns >= len(steps) {
		return c.answer(sc.s.Gold.Answer), nil
	}
	st := steps[c.turns]
	if !c.offered(st.Tool) {
		return c.missing(st.Tool, st), nil
	}
	return c.call(fmt.Sprintf("%s_%d", sc.s.ID, c.turns+1), st.Thought, st.Tool, st.Args)
}

func (o *Oracle) meta(c conversation) (api.Message, error) {
	sc, ok := o.byText[c.first]
	if !ok {
		return c.answer(noScript), nil
	}
	if c.turns >= len(sc.groups) {
		return c.answer(sc.s.Gold.Answer), nil
	}
	g := sc.groups[c.turns]
	id := fmt.Sprintf("%s_%d", sc.s.ID, c.turns+1)
	if g.agent == planexec.UserAgent {
		if !c.offered(trajectory.AskTool) {
			return c.missing(trajectory.AskTool, g.steps[0]), nil
		}
		return c.call(id, g.steps[0].Thought, trajectory.AskTool, g.steps[0].Args)
	}
	name := domainTool(g.agent)
	if !c.offered(name) {
		return c.missing(name, g.steps[0]), nil
	}
	args, _ := json.Marshal(map[string]string{"request": g.request})
	return c.call(id, "Ask the "+g.agent+" agent.", name, args)
}

func domainTool(agent string) string {
	for _, d := range system.Domains {
		if d.Name == agent {
			return d.Tool
		}
	}
	return agent
}

func (o *Oracle) domain(c conversation) (api.Message, error) {
	request, _, _ := strings.Cut(c.first, planexec.ContextMarker)
	ref, ok := o.byRequest[strings.Join(strings.Fields(request), " ")]
	if !ok {
		return c.answer(noScript), nil
	}
	sc, g := ref.sc, ref.sc.groups[ref.g]
	if c.turns < len(g.steps) {
		st := g.steps[c.turns]
		if !c.offered(st.Tool) {
			return c.missing(st.Tool, st), nil
		}
		return c.call(fmt.Sprintf("%s_%d_%d", sc.s.ID, ref.g+1, c.turns+1), st.Thought, st.Tool, st.Args)
	}
	if ref.g == lastAgentGroup(sc.groups) {
		return c.answer(sc.s.Gold.Answer), nil
	}
	return c.answer("Done. The result: " + c.last), nil
}

func firstAgentGroup(gs []group) int {
	for i, g := range gs {
		if g.agent != planexec.UserAgent {
			return i
		}
	}
	return -1
}

func lastAgentGroup(gs []group) int {
	for i := len(gs) - 1; i >= 0; i-- {
		if gs[i].agent != planexec.UserAgent {
			return i
		}
	}
	return -1
}

// plan writes the groups as a chain of plan steps. Without the user agent a
// scenario that needs a clarification gets the question as its only task,
// which no agent can carry out: the honest plan of a planner that cannot ask.
func (o *Oracle) plan(c conversation) api.Message {
	sc, ok := o.byText[c.first]
	if !ok {
		return api.Message{Content: noScript}
	}
	canAsk := strings.Contains(c.system, "\n- "+planexec.UserAgent+":")
	var steps []trajectory.PlanStep
	for _, g := range sc.groups {
		if g.agent == planexec.UserAgent && !canAsk {
			agent := "iot"
			if i := firstAgentGroup(sc.groups); i >= 0 {
				agent = sc.groups[i].agent
			}
			steps = []trajectory.PlanStep{{N: 1, Task: sc.s.Text, Agent: agent, DependsOn: []int{}}}
			break
		}
		st := trajectory.PlanStep{N: len(steps) + 1, Task: g.request, Agent: g.agent, DependsOn: []int{},
			ExpectedOutput: "The result of the task."}
		if g.agent == planexec.UserAgent {
			st.ExpectedOutput = "The user's answer."
		}
		if st.N > 1 {
			st.DependsOn = []int{st.N - 1}
		}
		steps = append(steps, st)
	}
	if len(steps) == 0 {
		// A gold trajectory without calls: the question is answered from
		// knowledge; a plan still needs a step.
		steps = []trajectory.PlanStep{{N: 1, Task: sc.s.Text, Agent: "iot", DependsOn: []int{}}}
	}
	return api.Message{Content: planexec.FormatPlan(steps)}
}

func (o *Oracle) summary(c conversation) api.Message {
	sc, ok := o.byText[c.first]
	if !ok {
		return api.Message{Content: noScript}
	}
	results := ""
	if n := len(c.req.Messages); n > 0 {
		results = c.req.Messages[n-1].Content
	}
	if len(sc.s.Gold.Steps) == 0 || strings.Contains(results, sc.s.Gold.Answer) {
		return api.Message{Content: sc.s.Gold.Answer}
	}
	return api.Message{Content: "Not enough information available."}
}
