package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/assetops/assetops/agents"
	"github.com/assetops/assetops/agents/mcpserver"
	"github.com/assetops/assetops/agents/tools"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func cmdMCP(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "serve" {
		return usagef("usage: assetops mcp serve [--agent iot|fmsr|tsfm|wo|util|all] [flags]")
	}
	fs := newFlags("mcp serve", stderr)
	agent := fs.String("agent", mcpserver.All, "whose tools to serve: iot, fmsr, tsfm, wo, util (bare tool names) or all (full names, iot.history)")
	var df dataFlags
	df.register(fs)
	var ef envFlags
	ef.register(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("mcp serve takes no arguments, got %q", fs.Args())
	}
	// Check the agent before loading any data.
	if _, err := mcpserver.New(agents.Registry(nil), *agent, tools.Env{}, ""); err != nil {
		return usageError{err.Error()}
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
	srv, err := mcpserver.New(agents.Registry(data), *agent, env, buildVersion())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "serving %s tools over MCP on stdin/stdout; files in %s\n", *agent, env.OutDir)
	err = srv.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}})
	if ctx.Err() != nil {
		return nil // interrupted: a normal way to stop a server
	}
	return err
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
