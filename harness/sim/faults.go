package sim

import (
	"slices"
	"strings"

	"github.com/ollama/ollama/api"
)

// Faults are the misbehaviours a Faulty policy injects into the oracle's
// play, the mistakes agents must survive without the harness failing.
const (
	// FaultNoop answers every request at once, in text, without a tool:
	// planners write no plan, agents make nothing up from data they never read.
	FaultNoop = "noop"
	// FaultLoop repeats the first move of every conversation forever.
	FaultLoop = "loop"
	// FaultUnknownTool first calls a tool that does not exist, then plays on.
	FaultUnknownTool = "unknown-tool"
	// FaultMalformed first makes a call the agent cannot run — arguments
	// the tool refuses on native tool calling, an unparseable reply on the
	// text protocol — then plays on.
	FaultMalformed = "malformed"
	// FaultEarly stops after the first move with an answer that has no facts.
	FaultEarly = "early"
)

// Faults lists the fault names.
var Faults = []string{FaultNoop, FaultLoop, FaultUnknownTool, FaultMalformed, FaultEarly}

// NoopAnswer is what the noop fault replies to everything.
const NoopAnswer = "I do not have access to the plant's data, so I cannot say."

// EarlyAnswer is what the early fault answers after its first move.
const EarlyAnswer = "Done."

// UnknownTool is the tool the unknown-tool fault calls.
const UnknownTool = "iot.get_everything"

// Faulty is the oracle with one fault injected in every conversation that
// calls tools (agents), leaving the planner, reviewers and summariser as
// they are except for FaultNoop. It is a test instrument: it checks that
// agents and harness turn model mistakes into the trajectories they should.
func Faulty(o *Oracle, fault string) Policy {
	return &faulty{o: o, fault: fault}
}

type faulty struct {
	o     *Oracle
	fault string
}

func (f *faulty) Fingerprint() string { return fingerprint([]string{f.o.Fingerprint(), f.fault}) }

func (f *faulty) Reply(req *api.ChatRequest) (api.Message, error) {
	c := readConversation(req)
	if f.fault == FaultNoop {
		return c.answer(NoopAnswer), nil
	}
	if !f.acting(c) {
		return f.o.Reply(req)
	}
	switch f.fault {
	case FaultLoop:
		return f.o.Reply(firstTurn(req))
	case FaultEarly:
		if c.turns > 0 {
			return c.answer(EarlyAnswer), nil
		}
	case FaultUnknownTool, FaultMalformed:
		if c.turns == 0 {
			return f.firstMistake(c, req)
		}
		// Play on as if the mistake had not happened.
		return f.o.Reply(dropFirstTurn(req))
	}
	return f.o.Reply(req)
}

// acting reports whether the conversation is an agent's, one that moves by
// calling tools: not a planner's, reviewer's or summariser's.
func (f *faulty) acting(c conversation) bool {
	return len(c.req.Tools) > 0 || c.text
}

func (f *faulty) firstMistake(c conversation, req *api.ChatRequest) (api.Message, error) {
	if f.fault == FaultUnknownTool {
		return c.call("unknown", "Get everything at once.", UnknownTool, []byte(`{}`))
	}
	if c.text {
		return api.Message{Content: "I will now look this up with the right tool."}, nil
	}
	// The move the oracle would make, with arguments its tool refuses.
	m, err := f.o.Reply(req)
	if err != nil || len(m.ToolCalls) == 0 {
		return m, err
	}
	name := m.ToolCalls[0].Function.Name
	return c.call("malformed", "", name, []byte(`{"no_such_argument": true}`))
}

// firstTurn is the request cut back to before the agent's first move.
func firstTurn(req *api.ChatRequest) *api.ChatRequest {
	out := *req
	i := slices.IndexFunc(req.Messages, func(m api.Message) bool { return m.Role == "assistant" })
	if i >= 0 {
		out.Messages = req.Messages[:i]
	}
	return &out
}

// dropFirstTurn removes the agent's first move and the answers to it, so
// the oracle counts its turns as if that move had not been made.
func dropFirstTurn(req *api.ChatRequest) *api.ChatRequest {
	out := *req
	i := slices.IndexFunc(req.Messages, func(m api.Message) bool { return m.Role == "assistant" })
	if i < 0 {
		return req
	}
	j := i + 1
	for j < len(req.Messages) && (req.Messages[j].Role == "tool" || req.Messages[j].Role == "user" && strings.HasPrefix(req.Messages[j].Content, "Observation:")) {
		j++
	}
	out.Messages = append(slices.Clone(req.Messages[:i]), req.Messages[j:]...)
	return &out
}
