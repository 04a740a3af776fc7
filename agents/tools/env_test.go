package tools

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Resolve finds files inside the output folder and refuses every way out.
func TestResolve(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"run/a.json": "{}", "run/sub/b.json": "{}", "secret.json": "{}"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "secret.json"), filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.json"), filepath.Join(dir, "inner.json")); err != nil {
		t.Fatal(err)
	}
	env := Env{OutDir: dir}
	for _, tt := range []struct{ name, want string }{
		{"a.json", "a.json"},
		{"sub/b.json", "sub/b.json"},
		{"sub/../a.json", "a.json"},
		{filepath.Join(dir, "a.json"), "a.json"},
		{"inner.json", "a.json"}, // a link that stays inside is followed
		{"../secret.json", "outside the run's output folder"},
		{filepath.Join(root, "secret.json"), "outside the run's output folder"},
		{"link.json", "outside the run's output folder"},
		{"none.json", `no file "none.json"`},
	} {
		got, err := env.Resolve(tt.name)
		switch {
		case err != nil && !strings.Contains(err.Error(), tt.want):
			t.Errorf("Resolve(%q): %v, want %q", tt.name, err, tt.want)
		case err == nil:
			if rel, _ := filepath.Rel(mustEval(t, dir), got); rel != tt.want {
				t.Errorf("Resolve(%q) = %s, want %s", tt.name, rel, tt.want)
			}
		}
	}
	if _, err := (Env{}).Resolve("a.json"); !errors.Is(err, ErrNoOutDir) {
		t.Errorf("no folder: %v", err)
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// WriteFile keeps names flat inside the folder.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	env := Env{OutDir: filepath.Join(dir, "new")}
	for _, tt := range []struct{ name, want string }{
		{"history-Chiller 9.json", "history-Chiller 9.json"},
		{"../up.json", ".._up.json"},
		{"a/b:c.json", "a_b_c.json"},
		{"..", "_.."},
	} {
		got, err := env.WriteFile(tt.name, []byte("{}"))
		if err != nil || got != tt.want {
			t.Errorf("WriteFile(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
			continue
		}
		if _, err := os.Stat(filepath.Join(env.OutDir, got)); err != nil {
			t.Error(err)
		}
	}
	if _, err := (Env{}).WriteFile("x", nil); !errors.Is(err, ErrNoOutDir) {
		t.Errorf("no folder: %v", err)
	}
}

func TestEnvFromDefaultsTheClock(t *testing.T) {
	if got := EnvFrom(context.Background()).Now; !got.Equal(DefaultNow) {
		t.Errorf("Now = %s, want %s", got, DefaultNow)
	}
	now := time.Date(2020, 6, 10, 8, 30, 0, 0, time.UTC)
	if got := EnvFrom(WithEnv(context.Background(), Env{Now: now, OutDir: "x"})); !got.Now.Equal(now) || got.OutDir != "x" {
		t.Errorf("env = %+v", got)
	}
}

// Failures come back as {"error", "kind"}, and a panic is an internal
// error, not a crash.
func TestErrorResult(t *testing.T) {
	reg := registry()
	reg.Add(New("demo.panic", "Panic.", func(context.Context, struct{}) (echoOut, error) {
		var m map[string]int
		m["x"] = 1 // a nil-map write: the kind of bug a model's input can reach
		return echoOut{}, nil
	}))
	for _, tt := range []struct{ tool, args, kind, msg string }{
		{"demo.nope", `{}`, KindUnknownTool, `unknown tool "demo.nope"`},
		{"demo.echo", `{"name":7}`, KindArguments, "invalid arguments for demo.echo"},
		{"demo.echo", `{"name":"fail"}`, KindFailed, "cannot greet fail"},
		{"demo.panic", `{}`, KindInternal, "demo.panic: internal error: assignment to entry in nil map"},
	} {
		_, err := reg.Call(context.Background(), tt.tool, json.RawMessage(tt.args))
		var res struct{ Error, Kind string }
		if err := json.Unmarshal(ErrorResult(err), &res); err != nil {
			t.Fatal(err)
		}
		if res.Kind != tt.kind || !strings.Contains(res.Error, tt.msg) {
			t.Errorf("%s %s: %+v, want kind %s with %q", tt.tool, tt.args, res, tt.kind, tt.msg)
		}
	}
}
