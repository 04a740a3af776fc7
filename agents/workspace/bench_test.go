package workspace_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/assetops/assetops/agents/tools"
)

// BenchmarkTools times each utility tool's typical call, through the
// registry as an agent makes it.
func BenchmarkTools(b *testing.B) {
	reg := registry()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sensors-Chiller 6.json"),
		[]byte(`{"asset_id":"Chiller 6","sensors":["Chiller 6 Tonnage","Chiller 6 Power Input","Chiller 6 Supply Temperature"]}`), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: dir})
	benches := []struct{ tool, args string }{
		{"util.current_date_time", `{}`},
		{"util.json_reader", `{"file_name":"sensors-Chiller 6.json"}`},
	}
	for _, bb := range benches {
		b.Run(bb.tool, func(b *testing.B) {
			for b.Loop() {
				if _, err := reg.Call(ctx, bb.tool, json.RawMessage(bb.args)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
