package mcpserver_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/mcpserver"
	"github.com/assetops/assetops/agents/tools"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// connect serves agent's tools and returns a client session on them, over
// the SDK's in-memory transports.
func connect(t *testing.T, reg *tools.Registry, agent string, env tools.Env) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	srv, err := mcpserver.New(reg, agent, env, "test")
	if err != nil {
		t.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "v0"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// Every agent's server lists exactly its tools, with their schemas.
func TestListTools(t *testing.T) {
	reg := agentstest.Registry(t)
	for _, agent := range append(mcpserver.Agents(reg), mcpserver.All) {
		t.Run(agent, func(t *testing.T) {
			cs := connect(t, reg, agent, tools.Env{})
			res, err := cs.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, tool := range res.Tools {
				got = append(got, tool.Name)
				full := tool.Name
				if agent != mcpserver.All {
					full = agent + "." + tool.Name
				}
				rt, ok := reg.Lookup(full)
				if !ok {
					t.Errorf("served %s, which is no tool", tool.Name)
					continue
				}
				schema, _ := json.Marshal(tool.InputSchema)
				if !jsonEqual(t, schema, rt.Schema) {
					t.Errorf("%s: schema %s, want %s", tool.Name, schema, rt.Schema)
				}
			}
			for _, rt := range reg.Tools() {
				if agent == mcpserver.All {
					want = append(want, rt.Name)
				} else if rt.Agent() == agent {
					want = append(want, strings.TrimPrefix(rt.Name, agent+"."))
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) || len(got) == 0 {
				t.Errorf("tools %v, want %v", got, want)
			}
		})
	}
	if _, err := mcpserver.New(reg, "vibration", tools.Env{}, "test"); err == nil || !strings.Contains(err.Error(), `unknown agent "vibration" (agents: fmsr, iot, tsfm, util, wo, all)`) {
		t.Errorf("unknown agent: %v", err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// A call returns the same JSON as the registry; a failed one is a result
// flagged as an error, carrying the reason, not a protocol error.
func TestCallTool(t *testing.T) {
	reg := agentstest.Registry(t)
	env := tools.Env{OutDir: t.TempDir()}
	ctx := context.Background()
	for _, tt := range []struct {
		agent, name, full string
		args              map[string]any
		wantErr           string
	}{
		{agent: "wo", name: "get_work_orders", full: "wo.get_work_orders", args: map[string]any{"equipment_id": "CWC04009", "start_date": "2020-06-01", "end_date": "2020-06-30"}},
		{agent: "all", name: "iot.assets", full: "iot.assets", args: map[string]any{"site_name": "MAIN"}},
		{agent: "util", name: "current_date_time", full: "util.current_date_time", args: map[string]any{}},
		{agent: "iot", name: "history", args: map[string]any{"site_name": "MAIN"}, wantErr: `"kind":"invalid_arguments"`},
		{agent: "fmsr", name: "get_failure_modes", args: map[string]any{"asset_name": "Wind Turbine"}, wantErr: `no failure modes for asset class \"wind turbine\"`},
	} {
		t.Run(tt.agent+" "+tt.name, func(t *testing.T) {
			cs := connect(t, reg, tt.agent, env)
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tt.name, Arguments: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			text := res.Content[0].(*mcp.TextContent).Text
			if tt.wantErr != "" {
				if !res.IsError || !strings.Contains(text, tt.wantErr) {
					t.Errorf("IsError %v, text %s; want an error with %s", res.IsError, text, tt.wantErr)
				}
				return
			}
			args, _ := json.Marshal(tt.args)
			want, err := reg.Call(tools.WithEnv(ctx, env), tt.full, args)
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError || !jsonEqual(t, []byte(text), want) {
				t.Errorf("got %s, want %s", text, want)
			}
			if res.StructuredContent == nil {
				t.Error("no structured content")
			}
		})
	}
}
