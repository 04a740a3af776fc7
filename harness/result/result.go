// Package result is the versioned record of a benchmark run: which model and
// agent ran, and for each scenario its trajectory, verdict and τ-match.
package result

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/harness/atomicfile"
	"github.com/assetops/assetops/harness/judge"
)

// Version of the result JSON written by this package.
const Version = 2

// Run is one model and agent over a set of scenarios.
type Run struct {
	Version int   `json:"version"`
	Model   Model `json:"model"`
	// Agent is the orchestration style; the fields after it are the run
	// options that shape what the agents are offered.
	Agent         string      `json:"agent"`
	Protocol      string      `json:"protocol,omitempty"`
	Tools         []string    `json:"tools,omitempty"` // offered only these (names or agents); all when empty
	Ask           bool        `json:"ask"`
	Distractors   bool        `json:"distractors,omitempty"`
	OrderShift    int         `json:"order_shift,omitempty"`
	Review        bool        `json:"review,omitempty"`
	Dataset       Dataset     `json:"dataset"`
	Options       llm.Options `json:"options"`
	MaxSteps      int         `json:"max_steps"`
	MaxAgentSteps int         `json:"max_agent_steps,omitempty"`
	Records       []Record    `json:"records"`
}

// Setup names the agent system and the run options that differ from the
// defaults: "plan-execute, text, ask off, distractors, shift 4, review".
func (r *Run) Setup() string {
	parts := []string{r.Agent}
	if r.Protocol != "" {
		parts = append(parts, r.Protocol)
	}
	if len(r.Tools) > 0 {
		parts = append(parts, "tools "+strings.Join(r.Tools, "+"))
	}
	if !r.Ask {
		parts = append(parts, "ask off")
	}
	if r.Distractors {
		parts = append(parts, "distractors")
	}
	if r.OrderShift != 0 {
		parts = append(parts, fmt.Sprintf("shift %d", r.OrderShift))
	}
	if r.Review {
		parts = append(parts, "review")
	}
	return strings.Join(parts, ", ")
}

// Dataset names the data the tools read.
type Dataset struct {
	Source           string `json:"source"`
	GeneratorVersion int    `json:"generator_version,omitempty"`
	Seed             uint64 `json:"seed,omitempty"`
}

// Model names what was evaluated.
type Model struct {
	Name          string `json:"name"`
	Digest        string `json:"digest,omitempty"`
	ServerVersion string `json:"server_version,omitempty"`
	// ReferencePolicy is set when the "model" is one of the simulator's
	// scripted policies: a test instrument, never a model's result.
	ReferencePolicy string `json:"reference_policy,omitempty"`
}

// Label is how tables name the model; reference policies say what they are.
func (m Model) Label() string {
	if m.ReferencePolicy != "" {
		return m.Name + " (simulated reference policy)"
	}
	return m.Name
}

// Record is one scenario's outcome.
type Record struct {
	ScenarioID string `json:"scenario_id"`
	Type       string `json:"type,omitempty"`
	Category   string `json:"category,omitempty"`
	// Verdict is the rules judge's; nil when the scenario has no
	// machine-checkable expectations.
	Verdict *judge.Verdict `json:"verdict,omitempty"`
	// Tau is the τ-match against the gold trajectory; nil without one.
	Tau        *float64               `json:"tau,omitempty"`
	Trajectory *trajectory.Trajectory `json:"trajectory"`
}

// Encode writes the run as indented JSON.
func Encode(r *Run) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile writes the run to path atomically.
func WriteFile(path string, r *Run) error {
	b, err := Encode(r)
	if err != nil {
		return fmt.Errorf("write result %s: %w", path, err)
	}
	return atomicfile.Write(path, b)
}

// ReadFile reads a run written by WriteFile.
func ReadFile(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read result %s: %w", path, err)
	}
	// Version 1 differs only in its trajectories, which read as version 2.
	if r.Version < 1 || r.Version > Version {
		return nil, fmt.Errorf("read result %s: version %d, this build reads 1 to %d", path, r.Version, Version)
	}
	return &r, nil
}
