// Package mcpserver serves the agents' tools over the Model Context
// Protocol, so that any MCP client can call them.
package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/assetops/assetops/agents/tools"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// All selects every agent's tools.
const All = "all"

// Agents lists the agent names a registry's tools belong to, sorted.
func Agents(reg *tools.Registry) []string {
	seen := map[string]bool{}
	for _, t := range reg.Tools() {
		seen[t.Agent()] = true
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// New returns a server of one agent's tools, under their bare names
// ("history"), or of every tool under its full name ("iot.history") when
// agent is All. Each call runs with env, so the server's clock and output
// folder are fixed for its life.
func New(reg *tools.Registry, agent string, env tools.Env, version string) (*mcp.Server, error) {
	agents := Agents(reg)
	if agent != All && !slices.Contains(agents, agent) {
		return nil, fmt.Errorf("unknown agent %q (agents: %s, %s)", agent, strings.Join(agents, ", "), All)
	}
	name := "assetops-" + agent
	s := mcp.NewServer(&mcp.Implementation{Name: name, Title: "assetops " + agent + " tools", Version: version}, nil)
	for _, t := range reg.Tools() {
		if agent != All && t.Agent() != agent {
			continue
		}
		exposed := t.Name
		if agent != All {
			exposed = strings.TrimPrefix(t.Name, agent+".")
		}
		s.AddTool(&mcp.Tool{Name: exposed, Description: t.Description, InputSchema: t.Schema}, handler(reg, t.Name, env))
	}
	return s, nil
}

// handler calls the tool; its failures are results with IsError set, as
// the protocol asks, so that the client's model sees the reason.
func handler(reg *tools.Registry, name string, env tools.Env) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		out, err := reg.Call(tools.WithEnv(ctx, env), name, req.Params.Arguments)
		if err != nil {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: string(tools.ErrorResult(err))}}}, nil
		}
		res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(out)}}}
		if len(out) > 0 && out[0] == '{' {
			res.StructuredContent = json.RawMessage(out)
		}
		return res, nil
	}
}
