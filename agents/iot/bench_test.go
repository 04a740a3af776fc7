package iot_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tools"
)

// BenchmarkTools times each IoT tool's typical call, through the registry
// as an agent makes it.
func BenchmarkTools(b *testing.B) {
	reg := agentstest.Registry(b)
	env := tools.Env{OutDir: b.TempDir()}
	latestEnv := tools.Env{Now: time.Date(2020, 6, 10, 12, 7, 0, 0, time.UTC)}
	benches := []struct {
		tool, args string
		env        tools.Env
	}{
		{"iot.sites", `{}`, env},
		{"iot.assets", `{"site_name":"MAIN","asset_class":"chiller"}`, env},
		{"iot.asset_detail", `{"site_name":"MAIN","asset_id":"Chiller 6"}`, env},
		{"iot.sensors", `{"site_name":"MAIN","asset_id":"Chiller 6"}`, env},
		{"iot.history", `{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-02"}`, env},
		{"iot.latest_reading", `{"site_name":"MAIN","asset_id":"Chiller 6"}`, latestEnv},
		{"iot.sensor_stats", `{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-08"}`, env},
	}
	for _, bb := range benches {
		b.Run(bb.tool, func(b *testing.B) {
			ctx := tools.WithEnv(context.Background(), bb.env)
			for b.Loop() {
				if _, err := reg.Call(ctx, bb.tool, json.RawMessage(bb.args)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
