package react

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
)

// AgentAction offers a whole agent as one action taking a plain-language
// request, the Tool-As-Agent design: the caller sees the agent's structured
// answer, and the trajectory keeps the agent's own run as the step's Sub.
func AgentAction(name, description string, agent *Agent) Action {
	return agentAction{agent: agent, spec: llm.Tool{Type: "function", Function: llm.ToolFunction{
		Name: name, Description: description, Parameters: requestSchema,
	}}}
}

type agentAction struct {
	agent *Agent
	spec  llm.Tool
}

func (a agentAction) Spec() llm.Tool { return a.spec }

func (a agentAction) Do(ctx context.Context, args json.RawMessage) (trajectory.Step, error) {
	name := a.spec.Function.Name
	step := trajectory.Step{Kind: trajectory.KindAgent, Agent: a.agent.Name, Tool: name, Args: args}
	var in struct {
		Request string `json:"request"`
	}
	dec := json.NewDecoder(strings.NewReader(string(args)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || strings.TrimSpace(in.Request) == "" {
		err := &tools.ArgsError{Tool: name, Err: fmt.Errorf(`want {"request": "..."}`)}
		step.Error, step.Observation = err.Error(), tools.ErrorResult(err)
		return step, nil
	}
	sub, err := a.agent.Run(ctx, "", in.Request)
	step.Sub = sub
	if err != nil {
		return step, fmt.Errorf("agent %s: %w", name, err)
	}
	step.Observation = Answer(sub)
	if sub.Status != trajectory.StatusAnswered {
		step.Error = fmt.Sprintf("agent %s ended with status %s", name, sub.Status)
	}
	return step, nil
}

// Evidence is one successful action behind a domain agent's answer.
type Evidence struct {
	Tool   string          `json:"tool"`
	Args   json.RawMessage `json:"args"`
	Result string          `json:"result"`
}

// evidenceChars bounds each result excerpt: the caller needs to know what
// backs the answer, not the whole history a tool returned.
const evidenceChars = 400

// Answer is the structured reply a domain agent gives its caller: the
// answer, how the run ended and the successful actions behind it.
func Answer(tr *trajectory.Trajectory) json.RawMessage {
	out := struct {
		Agent    string     `json:"agent"`
		Answer   string     `json:"answer"`
		Status   string     `json:"status"`
		Evidence []Evidence `json:"evidence"`
	}{Agent: tr.Agent, Answer: tr.FinalAnswer, Status: tr.Status, Evidence: []Evidence{}}
	if strings.TrimSpace(out.Answer) == "" {
		out.Answer = "The agent did not produce an answer."
	}
	for _, s := range tr.Actions() {
		if s.OK() {
			out.Evidence = append(out.Evidence, Evidence{Tool: s.Tool, Args: s.Args, Result: excerpt(string(s.Observation), evidenceChars)})
		}
	}
	b, err := marshal(out)
	if err != nil {
		return tools.ErrorResult(err)
	}
	return b
}

// excerpt cuts s to at most n bytes on a rune boundary, marking the cut.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
