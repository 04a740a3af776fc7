package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/assetops/assetops/agents"
	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/planexec"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/agents/system"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/cassettes"
	"github.com/assetops/assetops/harness/cassette"
	"github.com/assetops/assetops/harness/report"
	"github.com/assetops/assetops/harness/result"
	"github.com/assetops/assetops/harness/runner"
	"github.com/assetops/assetops/scenarios"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	mode := fs.String("mode", "replay", "cassette mode: replay (recordings only; a miss is an error), record (call the model, overwrite the cassette file), auto (replay what is recorded, record the rest) or passthrough (call the model, record nothing)")
	ollamaURL := fs.String("ollama", "", "Ollama URL for the modes that call a model (default $OLLAMA_HOST, else "+llm.DefaultOllamaURL+")")
	model := fs.String("model", "oracle", "model name")
	cassetteFile := fs.String("cassettes", "", "cassette export to replay or to record into (default: replay the embedded reference run; record into cassettes/<model>.jsonl)")
	cassetteDB := fs.String("cassette-db", "", "Badger directory holding the cassettes while running (default: in memory)")
	scenarioPath := fs.String("scenarios", "", "scenario file or directory (default: the embedded scenarios)")
	only := fs.String("only", "", "comma-separated scenario ids to run (default: all)")
	out := fs.String("out", "", "result file (default results/runs/<model>.json)")
	files := fs.String("files", "", "folder for the files tools write, one subfolder per scenario (default: the result file's name with .files)")
	style := fs.String("agent", trajectory.StyleReAct, "agent system: "+strings.Join(system.Styles, ", "))
	protocol := fs.String("protocol", "auto", "tool protocol: native (Ollama tool calling), text (Thought/Action/Observation) or auto (native when the model reports the tools capability)")
	ask := fs.String("ask", "on", "offer agents the ask_user action, answered from each scenario's clarifications: on or off")
	toolSet := fs.String("tools", "", "offer only these tools: comma-separated names (iot.history) or agents (iot); default all")
	distractors := fs.Bool("distractors", false, "offer ten irrelevant distractor agents beside the real ones")
	orderShift := fs.Int("order-shift", 0, "rotate the order in which tools and agents are offered by this many places")
	review := fs.Bool("review", false, "add the review pass: of the answer (react, tool-as-agent; one retry) or of the plan (plan-execute)")
	concurrency := fs.Int("plan-concurrency", planexec.DefaultConcurrency, "plan steps run at once (plan-execute)")
	maxSteps := fs.Int("max-steps", react.DefaultMaxSteps, "model turns allowed to the top-level agent per scenario")
	maxAgentSteps := fs.Int("max-agent-steps", react.DefaultMaxSteps, "model turns allowed to each domain agent (tool-as-agent, plan-execute)")
	var df dataFlags
	df.register(fs)
	opts := llm.DefaultOptions()
	fs.IntVar(opts.Seed, "seed", *opts.Seed, "sampling seed sent to the model")
	fs.Float64Var(opts.Temperature, "temperature", *opts.Temperature, "sampling temperature")
	fs.IntVar(opts.NumCtx, "num-ctx", *opts.NumCtx, "context window in tokens")
	fs.IntVar(opts.NumPredict, "num-predict", *opts.NumPredict, "most tokens generated per call")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes no arguments, got %q", fs.Args())
	}
	m, err := cassette.ParseMode(*mode)
	if err != nil {
		return usageError{err.Error()}
	}
	if *model == "" {
		return usagef("--model must name a model")
	}
	if *protocol == "auto" {
		*protocol = ""
	} else if *protocol != trajectory.ProtocolNative && *protocol != trajectory.ProtocolText {
		return usagef("--protocol must be native, text or auto, not %q", *protocol)
	}
	if *ask != "on" && *ask != "off" {
		return usagef("--ask must be on or off, not %q", *ask)
	}
	if !slices.Contains(system.Styles, *style) {
		return usagef("--agent must be one of %s, not %q", strings.Join(system.Styles, ", "), *style)
	}
	if *ollamaURL != "" && m == cassette.Replay {
		return usagef("--ollama is not used with --mode replay, which never calls a model")
	}

	ss, err := loadScenarios(*scenarioPath)
	if err != nil {
		return err
	}
	if *only != "" {
		if ss, err = scenarios.Select(ss, strings.Split(*only, ",")); err != nil {
			return err
		}
	}

	store, err := cassette.Open(*cassetteDB)
	if err != nil {
		return err
	}
	defer store.Close()
	var live llm.Model
	if m != cassette.Replay {
		if live, err = llm.NewOllama(*ollamaURL, nil); err != nil {
			return usageError{err.Error()}
		}
	}
	switch m {
	case cassette.Replay:
		if err := loadCassettes(store, *cassetteFile); err != nil {
			return err
		}
	case cassette.Record, cassette.Auto:
		if *cassetteFile == "" {
			*cassetteFile = filepath.Join("cassettes", fileName(*model)+".jsonl")
		}
		if m == cassette.Auto {
			if _, err := os.Stat(*cassetteFile); err == nil {
				if _, err := store.ImportFile(*cassetteFile); err != nil {
					return err
				}
			}
		}
	}
	rec, err := cassette.NewRecorder(store, live, m)
	if err != nil {
		return err
	}

	data, err := df.open(ctx)
	if err != nil {
		return err
	}
	defer data.Close()
	if *out == "" {
		*out = filepath.Join("results", "runs", fileName(*model)+".json")
	}
	if *files == "" {
		*files = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".files"
	}
	reg := agents.Registry(data)
	var toolNames []string
	if *toolSet != "" {
		toolNames = strings.Split(*toolSet, ",")
		if reg, err = system.Subset(reg, toolNames); err != nil {
			return usageError{"--tools: " + err.Error()}
		}
	}
	r := &runner.Runner{
		OutDir:        *files,
		Recorder:      rec,
		Tools:         reg,
		ToolSet:       toolNames,
		Model:         *model,
		Options:       opts,
		Style:         *style,
		Protocol:      *protocol,
		Ask:           *ask == "on",
		Distractors:   *distractors,
		OrderShift:    *orderShift,
		Review:        *review,
		MaxSteps:      *maxSteps,
		MaxAgentSteps: *maxAgentSteps,
		Concurrency:   *concurrency,
		Dataset:       datasetOf(data),
	}
	run, err := r.Run(ctx, ss)
	st := rec.Stats()
	if serr := rec.SaveStats(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		if m == cassette.Record || m == cassette.Auto {
			return fmt.Errorf("%w (cassette file %s left as it was)", err, *cassetteFile)
		}
		return err
	}
	fmt.Fprintf(stderr, "cassettes (%s): %d replayed, %d recorded, %d live calls\n", m, st.Hits, st.Recorded, st.Live)
	if m == cassette.Record || m == cassette.Auto {
		if err := store.ExportFile(*cassetteFile); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "recorded cassettes: %s\n", *cassetteFile)
	}
	if err := result.WriteFile(*out, run); err != nil {
		return err
	}
	if err := report.Table(stdout, run); err != nil {
		return err
	}
	fmt.Fprint(stdout, report.Caption(run))
	fmt.Fprintf(stderr, "results: %s\n", *out)
	return nil
}

func loadScenarios(path string) ([]scenarios.Scenario, error) {
	if path == "" {
		return scenarios.Embedded()
	}
	ss, err := scenarios.Load(path)
	if err != nil {
		return nil, err
	}
	return scenarios.Unique(ss)
}

// loadCassettes imports a cassette export, or the embedded reference run.
func loadCassettes(store *cassette.Store, path string) error {
	if path != "" {
		_, err := store.ImportFile(path)
		return err
	}
	f, err := cassettes.FS.Open(cassettes.Reference)
	if err != nil {
		return fmt.Errorf("embedded cassettes: %w", err)
	}
	defer f.Close()
	_, err = store.Import("embedded "+cassettes.Reference, f)
	return err
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName turns a model name such as "qwen2.5:7b" into "qwen2.5_7b".
func fileName(model string) string {
	return strings.Trim(unsafeName.ReplaceAllString(model, "_"), "_.")
}
