package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/assetops/assetops/agents"
	"github.com/assetops/assetops/agents/tools"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

func cmdTools(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tools", stderr)
	asJSON := fs.Bool("json", false, "print each tool's name, description and JSON schema as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("tools takes no arguments, got %q", fs.Args())
	}
	reg := agents.Registry(nil) // listing reads no data
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reg.LLMTools())
	}
	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("tool", "arguments", "description")
	for _, tool := range reg.Tools() {
		if err := t.Append([]string{tool.Name, argSummary(tool.Schema), tool.Description}); err != nil {
			return err
		}
	}
	return t.Render()
}

// argSummary lists a schema's properties, optional ones with a "?".
func argSummary(schema json.RawMessage) string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return "?"
	}
	required := map[string]bool{}
	var names []string
	for _, r := range s.Required {
		required[r] = true
		names = append(names, r)
	}
	var optional []string
	for name := range s.Properties {
		if !required[name] {
			optional = append(optional, name+"?")
		}
	}
	slices.Sort(optional)
	return strings.Join(append(names, optional...), ", ")
}

func cmdTool(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tool", stderr)
	var df dataFlags
	df.register(fs)
	var ef envFlags
	ef.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return usagef("usage: assetops tool [flags] NAME ['JSON-ARGS']")
	}
	name, raw := fs.Arg(0), "{}"
	if fs.NArg() == 2 {
		raw = fs.Arg(1)
	}
	env, done, err := ef.env(stderr)
	if err != nil {
		return err
	}
	defer done()
	data, err := df.open(ctx)
	if err != nil {
		return err
	}
	defer data.Close()
	out, err := agents.Registry(data).Call(tools.WithEnv(ctx, env), name, json.RawMessage(raw))
	failed := err != nil
	if failed {
		// The result an agent would see, on stdout for scripts; the exit
		// status says it failed.
		out = tools.ErrorResult(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if failed {
		return fmt.Errorf("tool %s: %w", name, err)
	}
	return nil
}
