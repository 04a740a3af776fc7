package tools

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/assetops/assetops/agents/llm"
)

// Env is what a tool call may use besides its arguments. The runner sets
// one per scenario, so that time-relative tools are deterministic and files
// land in the run's folder.
type Env struct {
	// Now is the run clock: "now" for current_date_time, latest_reading
	// and the like. Zero means DefaultNow.
	Now time.Time
	// OutDir is the run's output folder: large results are written there
	// and file-reading tools read only there. Empty: no files.
	OutDir string
	// Model serves the tools backed by a model; in a run its calls go
	// through the scenario's cassettes. Nil: such tools say so.
	Model     llm.Model
	ModelName string
	Options   llm.Options
}

// DefaultNow is the run clock when a scenario sets none: the Monday after
// the generated dataset's year.
var DefaultNow = time.Date(2021, time.January, 4, 9, 0, 0, 0, time.UTC)

type envKey struct{}

// WithEnv attaches an Env to the calls made with ctx.
func WithEnv(ctx context.Context, e Env) context.Context { return context.WithValue(ctx, envKey{}, e) }

// EnvFrom returns the Env of a call. Its Now is never zero and is in UTC,
// the zone the dataset labels its site-local wall times with, so that every
// tool reads a zoned clock alike.
func EnvFrom(ctx context.Context) Env {
	e, _ := ctx.Value(envKey{}).(Env)
	if e.Now.IsZero() {
		e.Now = DefaultNow
	}
	e.Now = e.Now.UTC()
	return e
}

// ErrNoOutDir is returned by tools that need the run's output folder when
// there is none.
var ErrNoOutDir = errors.New("this run has no output folder for files")

// WriteFile writes data to name in the output folder and returns the name
// to give back to the agent: the path relative to the folder.
func (e Env) WriteFile(name string, data []byte) (string, error) {
	if e.OutDir == "" {
		return "", ErrNoOutDir
	}
	name = SafeName(name)
	if err := os.MkdirAll(e.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("output folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(e.OutDir, name), data, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// SafeName makes name a single path element that stays inside its folder:
// separators and control characters become "_", and "." or ".." gain one.
func SafeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, name)
	if name == "" || name == "." || name == ".." {
		name = "_" + name
	}
	return name
}

// Resolve finds a file an agent names, relative to the output folder or
// absolute inside it. Paths that climb out, and symbolic links that lead
// out, are refused: tools read only what the run wrote.
func (e Env) Resolve(name string) (string, error) {
	if e.OutDir == "" {
		return "", ErrNoOutDir
	}
	root, err := filepath.EvalSymlinks(e.OutDir)
	if err != nil {
		return "", fmt.Errorf("output folder: %w", err)
	}
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(e.OutDir, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("no file %q in the run's output folder", name)
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("file %q is outside the run's output folder", name)
	}
	return real, nil
}
