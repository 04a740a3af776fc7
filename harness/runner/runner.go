// Package runner runs scenarios through the agent, with every model call
// going through a cassette recorder, and scores each trajectory.
package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/agents/system"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/harness/cassette"
	"github.com/assetops/assetops/harness/judge"
	"github.com/assetops/assetops/harness/result"
	"github.com/assetops/assetops/harness/taumatch"
	"github.com/assetops/assetops/scenarios"
)

// Runner runs one model with one agent system.
type Runner struct {
	Recorder *cassette.Recorder
	Tools    *tools.Registry
	// ToolSet names the subset Tools was restricted to, for the record.
	ToolSet []string
	Model   string
	Options llm.Options
	// Style is the orchestration (trajectory.StyleReAct when empty).
	Style string
	// Protocol is native or text; empty chooses native when the model
	// reports the tools capability, else text.
	Protocol string
	// Ask offers the agents the ask_user action, answered from each
	// scenario's clarifications.
	Ask bool
	// Distractors offers ten irrelevant agents; OrderShift rotates the
	// offered tools and agents.
	Distractors bool
	OrderShift  int
	// Review adds the review pass (answers for ReAct styles, plans for
	// Plan-Execute).
	Review bool
	// Concurrency bounds the plan steps run at once (Plan-Execute).
	// It changes nothing recorded: parallel steps replay in their own lanes.
	Concurrency int
	// MaxSteps bounds the top-level agent's turns, MaxAgentSteps each
	// domain agent's (react.DefaultMaxSteps when zero).
	MaxSteps, MaxAgentSteps int
	Dataset                 result.Dataset
	// OutDir holds the files the tools write, one folder per scenario.
	// Empty: tools that write files say they cannot.
	OutDir string
}

// asker answers clarifying questions as a scenario's user.
type asker struct{ s scenarios.Scenario }

func (a asker) Answer(_ context.Context, question string) string { return a.s.Clarify(question) }

// Run runs the scenarios in order. A model or cassette error stops the run:
// in replay it means the recording does not cover this run, and live it
// means the server failed; either way the scores would be wrong.
func (r *Runner) Run(ctx context.Context, ss []scenarios.Scenario) (*result.Run, error) {
	maxSteps, maxAgentSteps := r.MaxSteps, r.MaxAgentSteps
	if maxSteps <= 0 {
		maxSteps = react.DefaultMaxSteps
	}
	if maxAgentSteps <= 0 {
		maxAgentSteps = react.DefaultMaxSteps
	}
	style := r.Style
	if style == "" {
		style = trajectory.StyleReAct
	}
	info, err := r.Recorder.Session("", 0).Show(ctx, r.Model)
	if err != nil {
		return nil, err
	}
	protocol := r.Protocol
	if protocol == "" {
		protocol = trajectory.ProtocolText
		if info.Has("tools") {
			protocol = trajectory.ProtocolNative
		}
	}
	run := &result.Run{
		Version: result.Version,
		Model: result.Model{
			Name: r.Model, Digest: info.Digest, ServerVersion: info.ServerVersion,
		},
		Agent:         style,
		Tools:         r.ToolSet,
		Protocol:      protocol,
		Ask:           r.Ask,
		Distractors:   r.Distractors,
		OrderShift:    r.OrderShift,
		Review:        r.Review,
		Dataset:       r.Dataset,
		Options:       r.Options,
		MaxSteps:      maxSteps,
		MaxAgentSteps: maxAgentSteps,
		Records:       []result.Record{},
	}
	if style == trajectory.StyleReAct {
		run.MaxAgentSteps = 0
	}
	if p, ok := info.ReferencePolicy(); ok {
		run.Model.ReferencePolicy = p
	}
	for _, s := range ss {
		session := r.Recorder.Session(s.ID, 0)
		env := tools.Env{Model: session, ModelName: r.Model, Options: r.Options}
		if env.Now, err = s.Clock(); err != nil {
			return nil, err
		}
		if r.OutDir != "" {
			env.OutDir = filepath.Join(r.OutDir, tools.SafeName(s.ID))
			// A rerun starts from an empty folder, as the recording did.
			if err := os.RemoveAll(env.OutDir); err != nil {
				return nil, fmt.Errorf("scenario %s: %w", s.ID, err)
			}
		}
		cfg := system.Config{
			Style: style, Model: session, ModelName: r.Model, Options: r.Options, Protocol: protocol,
			Tools: r.Tools, Distractors: r.Distractors, OrderShift: r.OrderShift, Review: r.Review,
			MaxSteps: maxSteps, MaxAgentSteps: maxAgentSteps, Concurrency: r.Concurrency,
		}
		if r.Ask {
			cfg.Ask = asker{s}
		}
		orch, err := system.New(cfg)
		if err != nil {
			return nil, err
		}
		tr, err := orch.Run(tools.WithEnv(ctx, env), s.ID, s.Text)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.ID, err)
		}
		rec, err := Score(s, tr)
		if err != nil {
			return nil, err
		}
		run.Records = append(run.Records, rec)
	}
	return run, nil
}

// Score judges one trajectory with the rules judge, when the scenario has
// expectations, and with τ-match, when it has a gold trajectory.
func Score(s scenarios.Scenario, tr *trajectory.Trajectory) (result.Record, error) {
	rec := result.Record{ScenarioID: s.ID, Type: s.Type, Category: s.Category, Trajectory: tr}
	if s.Expect != nil {
		v, err := judge.Rules(s, tr)
		if err != nil {
			return rec, err
		}
		rec.Verdict = &v
	}
	if s.Gold != nil {
		var run, gold []taumatch.Step
		for _, st := range tr.Actions() {
			run = append(run, taumatch.Step{Agent: st.Agent, Tool: st.Tool, Args: st.Args})
		}
		for _, g := range s.Gold.Steps {
			gold = append(gold, taumatch.Step{Agent: tools.AgentOf(g.Tool), Tool: g.Tool, Args: g.Args})
		}
		tau := taumatch.Score(run, gold)
		rec.Tau = &tau
	}
	return rec, nil
}
