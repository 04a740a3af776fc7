// Package system assembles the system under test: the domain agents (IoT,
// FMSR, TSFM, WO) over their tools, orchestrated in one of three styles —
// one ReAct agent over every tool, Tool-As-Agent (a ReAct meta-agent whose
// tools are the domain agents) or Plan-Execute — with the run options that
// measure robustness: clarifying questions, distractor agents and a shift of
// the order in which tools are offered.
package system

import (
	"context"
	"fmt"
	"strings"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/planexec"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
)

// Styles lists the orchestration styles.
var Styles = []string{trajectory.StyleReAct, trajectory.StyleToolAsAgent, trajectory.StylePlanExecute}

// Domain is one domain agent.
type Domain struct {
	Name        string // tool-name prefix and plan agent name ("iot")
	Tool        string // its action name for the Tool-As-Agent meta-agent
	Title       string
	Description string
}

// Domains are the domain agents, in the order they are offered.
var Domains = []Domain{
	{"iot", "IoTAgent", "IoT Data Download",
		"sites, assets and their details, sensors, telemetry history, latest readings and sensor statistics"},
	{"fmsr", "FMSRAgent", "Failure Mode and Sensor Relevancy Expert",
		"failure modes of an asset class, which sensors reveal which failure modes, and reading sensor data files"},
	{"tsfm", "TSFMAgent", "Time Series Analytics and Forecasting",
		"forecasting models and tasks, forecasting, fine-tuning and anomaly detection on telemetry"},
	{"wo", "WOAgent", "Work Order Management",
		"work orders, events, alerts, anomalies and failure codes: retrieve and analyse them, recommend and draft work orders"},
}

// utilAgent is the prefix of the utility tools every agent gets.
const utilAgent = "util"

// DomainPrompt is a domain agent's system prompt; %s are its title and
// description.
const DomainPrompt = `You are the %s agent of an industrial asset-operations team. You know about %s.
Carry out the request with your tools. Get every fact from a tool; never invent values. Times are site-local ISO 8601 without a zone.
When you are done, reply without a tool call: a short answer that states the names and figures you found.`

// MetaPrompt is the Tool-As-Agent meta-agent's system prompt.
const MetaPrompt = `You coordinate a team of agents for industrial asset operations at a plant with chillers and air-handling units.
Each tool is an agent: send it a self-contained request in plain words (name the site, asset, sensor and time window) and it replies
with its answer, its status and the evidence behind it. Use the agents to gather what the question needs; never invent values.
When you have what you need, reply without a tool call: a short final answer that states the names and figures found.`

// Config is what an orchestrator is built from.
type Config struct {
	Style     string // one of Styles; react when empty
	Model     llm.Model
	ModelName string
	Options   llm.Options
	Protocol  string // trajectory.ProtocolNative or ProtocolText
	Tools     *tools.Registry
	// Ask answers clarifying questions; nil leaves ask_user out.
	Ask react.Asker
	// Distractors offers ten irrelevant agents beside the real ones.
	Distractors bool
	// OrderShift rotates the offered tools (or agents) left by this many.
	OrderShift int
	// MaxSteps bounds the top-level agent's turns, MaxAgentSteps each domain
	// agent's; react.DefaultMaxSteps when zero.
	MaxSteps, MaxAgentSteps int
	// Review adds a review pass: of the answer for the ReAct styles (retried
	// once when not accomplished), of the plan for Plan-Execute.
	Review bool
	// Concurrency bounds the plan steps run at once (Plan-Execute);
	// planexec.DefaultConcurrency when zero.
	Concurrency int
}

// Orchestrator answers one question.
type Orchestrator interface {
	Run(ctx context.Context, scenarioID, question string) (*trajectory.Trajectory, error)
}

// New builds the orchestrator cfg describes.
func New(cfg Config) (Orchestrator, error) {
	if cfg.Tools == nil || cfg.Model == nil {
		return nil, fmt.Errorf("system: a model and tools are required")
	}
	switch cfg.Protocol {
	case "", trajectory.ProtocolNative, trajectory.ProtocolText:
	default:
		return nil, fmt.Errorf("unknown protocol %q (native, text)", cfg.Protocol)
	}
	switch cfg.Style {
	case "", trajectory.StyleReAct:
		acts := react.ToolActions(cfg.Tools)
		if cfg.Distractors {
			acts = append(acts, Distractors()...)
		}
		if cfg.Ask != nil {
			acts = append(acts, react.AskAction(cfg.Ask))
		}
		a := cfg.agent(trajectory.StyleReAct, react.Rotate(acts, cfg.OrderShift), "", cfg.MaxSteps)
		a.Review = cfg.Review
		return a, nil
	case trajectory.StyleToolAsAgent:
		var acts []react.Action
		for _, d := range Domains {
			acts = append(acts, react.AgentAction(d.Tool, d.Title+": "+d.Description+".", cfg.domainAgent(d)))
		}
		if cfg.Distractors {
			acts = append(acts, Distractors()...)
		}
		acts = append(acts, react.ToolActions(subset(cfg.Tools, utilAgent))...)
		if cfg.Ask != nil {
			acts = append(acts, react.AskAction(cfg.Ask))
		}
		a := cfg.agent(trajectory.StyleToolAsAgent, react.Rotate(acts, cfg.OrderShift), MetaPrompt, cfg.MaxSteps)
		a.Review = cfg.Review
		return a, nil
	case trajectory.StylePlanExecute:
		var agents []planexec.Agent
		for _, d := range Domains {
			agents = append(agents, planexec.Agent{Name: d.Name, Title: d.Title, Description: d.Description, Runner: cfg.domainAgent(d)})
		}
		if cfg.Distractors {
			for _, d := range distractors {
				agents = append(agents, planexec.Agent{Name: d.name, Title: d.name, Description: d.description, Canned: d.reply()})
			}
		}
		if n := len(agents); n > 0 {
			k := ((cfg.OrderShift % n) + n) % n
			agents = append(agents[k:], agents[:k]...)
		}
		return &planexec.Orchestrator{
			Model: cfg.Model, ModelName: cfg.ModelName, Options: cfg.Options,
			Agents: agents, Ask: cfg.Ask, Review: cfg.Review, Concurrency: cfg.Concurrency,
		}, nil
	}
	return nil, fmt.Errorf("unknown agent style %q (%s)", cfg.Style, strings.Join(Styles, ", "))
}

func (cfg Config) agent(name string, acts []react.Action, system string, maxSteps int) *react.Agent {
	return &react.Agent{
		Name: name, Model: cfg.Model, ModelName: cfg.ModelName, Actions: acts, Options: cfg.Options,
		Protocol: cfg.Protocol, MaxSteps: maxSteps, System: system,
	}
}

// domainAgent is a ReAct agent over one domain's tools and the utilities.
func (cfg Config) domainAgent(d Domain) *react.Agent {
	acts := react.ToolActions(subset(cfg.Tools, d.Name, utilAgent))
	return cfg.agent(d.Name, react.Rotate(acts, cfg.OrderShift), fmt.Sprintf(DomainPrompt, d.Title, d.Description), cfg.MaxAgentSteps)
}

// subset is the registry of the tools of the named agents.
func subset(reg *tools.Registry, agents ...string) *tools.Registry {
	out, _ := Subset(reg, agents)
	return out
}

// Subset is the registry of the named tools: full names ("iot.history") or
// agents ("iot" for all its tools). A name that matches nothing is an error,
// so a typo does not silently run an agent without tools.
func Subset(reg *tools.Registry, names []string) (*tools.Registry, error) {
	out := tools.NewRegistry()
	for _, n := range names {
		found := false
		for _, t := range reg.Tools() {
			if t.Name == n || t.Agent() == n {
				found = true
				if _, dup := out.Lookup(t.Name); !dup {
					out.Add(t)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("no tool or agent %q (agents: iot, fmsr, tsfm, wo, util)", n)
		}
	}
	return out, nil
}
