package agents_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tools"
)

// FuzzCall sends any bytes as any tool's arguments: the answer is valid
// JSON or an error, never a panic — which the registry would report as
// tools.ErrInternal.
func FuzzCall(f *testing.F) {
	reg := agentstest.Registry(f)
	names := reg.Names()
	for i, seed := range []string{
		`{}`, `null`, `[]`, `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-01","end":"2020-06-02"}`,
		`{"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30"}`, `{"asset_name":"Chiller 6"}`,
		`{"equipment_id":"CWC04009","window_days":-3,"min_size":0}`, `{"dataset_path":"../../etc/passwd","target_columns":["x"]}`,
		`{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-01","end":"2020-06-02","cursor":"eyJhZnRlciI6MX0"}`,
		`{"equipment_id":"CWC04009","description":"x","failure_code":"CS001","priority":9}`, `{"limit":1e308}`, "{\"a\":\"\xff\"}",
	} {
		f.Add(uint8(i*7), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, pick uint8, args []byte) {
		ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: t.TempDir()})
		name := names[int(pick)%len(names)]
		out, err := reg.Call(ctx, name, args)
		if errors.Is(err, tools.ErrInternal) {
			t.Fatalf("%s(%q): %v", name, args, err)
		}
		if err == nil && !json.Valid(out) {
			t.Fatalf("%s(%q): invalid JSON %q", name, args, out)
		}
	})
}
