package workspace_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/workspace"
	"github.com/google/go-cmp/cmp"
)

// registry holds the utility tools alone: they read no dataset.
func registry() *tools.Registry { return tools.NewRegistry(workspace.Tools()...) }

type dateTimeOut struct {
	CurrentDateTime            string `json:"currentDateTime"`
	CurrentDateTimeDescription string `json:"currentDateTimeDescription"`
	Weekday                    string `json:"weekday"`
}

func TestCurrentDateTime(t *testing.T) {
	reg := registry()
	tests := []struct {
		name string
		now  time.Time
		want dateTimeOut
	}{
		{"default clock: the Monday after the data", time.Time{},
			dateTimeOut{"2021-01-04T09:00:00", "Today's date is 2021-01-04 and time is 09:00:00.", "Monday"}},
		{"inside the data", time.Date(2020, 6, 3, 14, 7, 9, 0, time.UTC),
			dateTimeOut{"2020-06-03T14:07:09", "Today's date is 2020-06-03 and time is 14:07:09.", "Wednesday"}},
		{"leap day", time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC),
			dateTimeOut{"2020-02-29T00:00:00", "Today's date is 2020-02-29 and time is 00:00:00.", "Saturday"}},
		{"last second of the year", time.Date(2020, 12, 31, 23, 59, 59, 999, time.UTC),
			dateTimeOut{"2020-12-31T23:59:59", "Today's date is 2020-12-31 and time is 23:59:59.", "Thursday"}},
		// A clock in another zone reads as the dataset's wall clock (UTC)
		// in every field alike.
		{"zoned clock", time.Date(2020, 6, 2, 22, 10, 0, 0, time.FixedZone("EST", -5*3600)),
			dateTimeOut{"2020-06-03T03:10:00", "Today's date is 2020-06-03 and time is 03:10:00.", "Wednesday"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range []string{``, `{}`} {
				raw, err := reg.Call(tools.WithEnv(context.Background(), tools.Env{Now: tt.now}), "util.current_date_time", json.RawMessage(args))
				if err != nil {
					t.Fatal(err)
				}
				var got dateTimeOut
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("args %q (-want +got):\n%s", args, diff)
				}
			}
		})
	}
	t.Run("arguments refused", func(t *testing.T) {
		_, err := reg.Call(context.Background(), "util.current_date_time", json.RawMessage(`{"tz":"UTC"}`))
		var ae *tools.ArgsError
		if !errors.As(err, &ae) {
			t.Errorf("err = %v, want invalid arguments", err)
		}
	})
}

func TestJSONReader(t *testing.T) {
	reg := registry()
	root := t.TempDir()
	out := filepath.Join(root, "run")
	write := func(name string, content []byte) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, content, 0o644); err != nil {
			t.Fatal(err)
		}
		return string(content)
	}
	// padded is valid JSON of exactly n bytes: a string of spaces.
	padded := func(n int) []byte { return []byte(`"` + strings.Repeat(" ", n-2) + `"`) }

	data := write(filepath.Join(out, "data.json"), []byte(`{"asset_id": "Chiller 6",
  "values": [1.5, 2, null], "nested": {"ok": true}}`))
	deep := write(filepath.Join(out, "a", "b", "deep.json"), []byte(`[1, 2, 3]`))
	exact := write(filepath.Join(out, "exact.json"), padded(workspace.MaxJSONBytes))
	write(filepath.Join(out, "big.json"), padded(workspace.MaxJSONBytes+1))
	write(filepath.Join(out, "text.json"), []byte(`{"unterminated": `))
	write(filepath.Join(root, "x.json"), []byte(`{"secret": true}`))
	if err := os.Mkdir(filepath.Join(out, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"out.json":  filepath.Join(root, "x.json"), // leads out of the folder
		"in.json":   filepath.Join(out, "data.json"),
		"rel.json":  "a/b/deep.json",
		"up.json":   "../x.json",
		"loop.json": "loop.json",
	} {
		if err := os.Symlink(target, filepath.Join(out, link)); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name, file, want, wantErr string
	}{
		{name: "file in the folder", file: "data.json", want: data},
		{name: "dot path", file: "./data.json", want: data},
		{name: "nested", file: "a/b/deep.json", want: deep},
		{name: "climbs and comes back", file: "a/../data.json", want: data},
		{name: "absolute inside", file: filepath.Join(out, "a", "b", "deep.json"), want: deep},
		{name: "symlink inside", file: "in.json", want: data},
		{name: "relative symlink inside", file: "rel.json", want: deep},
		{name: "exactly the size bound", file: "exact.json", want: exact},
		{name: "climbs out to a file that exists", file: "../x.json", wantErr: `file "../x.json" is outside the run's output folder`},
		{name: "climbs out from a subfolder", file: "a/../../x.json", wantErr: "is outside the run's output folder"},
		{name: "absolute outside", file: filepath.Join(root, "x.json"), wantErr: "is outside the run's output folder"},
		{name: "symlink out", file: "out.json", wantErr: `file "out.json" is outside the run's output folder`},
		{name: "relative symlink out", file: "up.json", wantErr: `file "up.json" is outside the run's output folder`},
		{name: "symlink loop", file: "loop.json", wantErr: `no file "loop.json" in the run's output folder`},
		{name: "over the size bound", file: "big.json", wantErr: "big.json has 1048577 bytes, more than the 1048576 json_reader returns"},
		{name: "not JSON", file: "text.json", wantErr: "text.json is not JSON"},
		{name: "missing", file: "nope.json", wantErr: `no file "nope.json" in the run's output folder`},
		{name: "a folder", file: "folder", wantErr: "folder is a folder, not a file"},
		{name: "the folder itself", file: "", wantErr: "is a folder, not a file"},
	}
	ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: out})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]string{"file_name": tt.file})
			raw, err := reg.Call(ctx, "util.json_reader", b)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q; got %.200s", err, tt.wantErr, raw)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The file comes back as JSON, compacted by the registry.
			var want, got any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("no output folder", func(t *testing.T) {
		_, err := reg.Call(context.Background(), "util.json_reader", json.RawMessage(`{"file_name":"data.json"}`))
		if !errors.Is(err, tools.ErrNoOutDir) {
			t.Errorf("err = %v, want %v", err, tools.ErrNoOutDir)
		}
	})
	t.Run("missing argument", func(t *testing.T) {
		_, err := reg.Call(ctx, "util.json_reader", json.RawMessage(`{}`))
		if !strings.Contains(string(tools.ErrorResult(err)), `"kind":"invalid_arguments"`) {
			t.Errorf("err = %v, want invalid arguments", err)
		}
	})
}
