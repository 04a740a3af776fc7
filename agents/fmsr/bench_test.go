package fmsr_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
)

// BenchmarkTools times each FMSR tool's typical call, through the registry
// as an agent makes it; the model is the canned fake, so the generated
// mapping measures the tool, not a model.
func BenchmarkTools(b *testing.B) {
	reg := agentstest.Registry(b)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sensors-Chiller 6.json"),
		[]byte(`{"asset_id":"Chiller 6","sensors":["Chiller 6 Tonnage","Chiller 6 Power Input","Chiller 6 Supply Temperature"]}`), 0o644); err != nil {
		b.Fatal(err)
	}
	env := tools.Env{OutDir: dir, ModelName: "fake-llm", Options: llm.DefaultOptions()}
	benches := []struct{ tool, args string }{
		{"fmsr.get_failure_modes", `{"asset_name":"Chiller 6"}`},
		{"fmsr.get_failure_mode_sensor_mapping", `{"asset_name":"Chiller 6"}`},
		{"fmsr.generate_failure_mode_sensor_mapping", `{"asset_name":"Chiller 6","failure_modes":["Refrigerant Circuit Low refrigerant charge","Condenser Water side fouling"],"sensors":["Tonnage","Power Input","Supply Temperature"]}`},
		{"fmsr.read_sensors_from_file", `{"file_path":"sensors-Chiller 6.json"}`},
	}
	for _, bb := range benches {
		b.Run(bb.tool, func(b *testing.B) {
			// A fresh fake per benchmark, so that its request log stays small.
			e := env
			e.Model = &fakeModel{reply: canned}
			ctx := tools.WithEnv(context.Background(), e)
			for b.Loop() {
				if _, err := reg.Call(ctx, bb.tool, json.RawMessage(bb.args)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
