package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
)

// envFlags set the environment of tool calls made outside a run: the
// clock, the folder for files and the model behind model-backed tools.
type envFlags struct {
	now, outDir, ollama, model string
}

func (f *envFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.now, "now", "", "the clock the tools see, site-local (default "+fixtures.LocalTime{Time: tools.DefaultNow}.String()+")")
	fs.StringVar(&f.outDir, "out-dir", "", "folder for the files tools write and read (default: a new temporary folder, kept if a tool wrote to it)")
	fs.StringVar(&f.ollama, "ollama", "", "Ollama URL for model-backed tools (default $OLLAMA_HOST, else "+llm.DefaultOllamaURL+")")
	fs.StringVar(&f.model, "model", "", "model for model-backed tools (default: none; such tools then say so)")
}

// env returns the environment and a function to call when done with it.
func (f *envFlags) env(stderr io.Writer) (tools.Env, func(), error) {
	env := tools.Env{ModelName: f.model, Options: llm.DefaultOptions(), OutDir: f.outDir}
	if f.now != "" {
		t, err := fixtures.ParseLocalTime(f.now)
		if err != nil {
			return env, nil, usagef("--now: %v", err)
		}
		env.Now = t
	}
	if f.model != "" {
		m, err := llm.NewOllama(f.ollama, nil)
		if err != nil {
			return env, nil, usageError{err.Error()}
		}
		env.Model = m
	} else if f.ollama != "" {
		return env, nil, usagef("--ollama needs --model")
	}
	if env.OutDir != "" {
		return env, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "assetops-files-")
	if err != nil {
		return env, nil, err
	}
	env.OutDir = dir
	return env, func() {
		// Keep the folder only if a tool left something in it.
		if entries, _ := os.ReadDir(dir); len(entries) == 0 {
			os.Remove(dir)
		} else {
			fmt.Fprintf(stderr, "files: %s\n", dir)
		}
	}, nil
}
