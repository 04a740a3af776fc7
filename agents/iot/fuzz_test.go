package iot_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tools"
)

// FuzzCall feeds the window tools whatever a model might send: every call
// must end in an error or in valid JSON that keeps the tool's promises,
// never in a panic (which Registry.Call turns into ErrInternal).
func FuzzCall(f *testing.F) {
	reg := agentstest.Registry(f)
	seeds := []string{
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01T00:00:00","end":"2020-06-01T06:00:00"}`,
		`{"site_name":"main","asset_id":"cqpa ahu 2b","start":"2020-08-10","end":"2020-08-11","sensors":["Supply Fan Current","Power (Calc)"],"limit":7}`,
		`{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-01","end":"2020-06-08","limit":1000}`,
		`{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-03T16:00:00+02:00","end":"2020-06-03T18:00:00Z"}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-02","cursor":"eyJhZnRlciI6MCwicSI6IiJ9"}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-02","limit":-3}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"0001-01-01","end":"0001-01-02"}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"9999-12-30","end":"9999-12-31"}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-02","end":"2020-06-01"}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"June","end":"2020-06-01"}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-02","sensors":[""]}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-02","sensors":[null]}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-02","limit":1e400}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-02","extra":1}`,
		`{"site_name":"MAIN","asset_id":"Chiller 6"`,
		`[]`, `null`, `""`, `{}`, ``, `{"site_name":"\u0000"}`,
	}
	for _, s := range seeds {
		f.Add(false, s)
		f.Add(true, s)
	}
	f.Fuzz(func(t *testing.T, stats bool, args string) {
		tool := "iot.history"
		if stats {
			tool = "iot.sensor_stats"
		}
		ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: t.TempDir()})
		out, err := reg.Call(ctx, tool, json.RawMessage(args))
		if err != nil {
			if errors.Is(err, tools.ErrInternal) {
				t.Fatalf("%s %s: %v", tool, args, err)
			}
			if !json.Valid(tools.ErrorResult(err)) {
				t.Fatalf("%s %s: error result %s is not JSON", tool, args, tools.ErrorResult(err))
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s %s: result is not JSON: %.300s", tool, args, out)
		}
		if stats {
			var r struct {
				TotalRecords int `json:"total_records"`
				Stats        []struct {
					Count     int `json:"count"`
					NullCount int `json:"null_count"`
				} `json:"stats"`
			}
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatal(err)
			}
			for _, s := range r.Stats {
				if s.Count+s.NullCount != r.TotalRecords {
					t.Fatalf("%s: count %d + missing %d != %d records", args, s.Count, s.NullCount, r.TotalRecords)
				}
			}
			return
		}
		var h struct {
			Start, End   string
			Total        int `json:"total_observations"`
			Returned     int
			Observations []struct{ Timestamp string }
		}
		if err := json.Unmarshal(out, &h); err != nil {
			t.Fatal(err)
		}
		if h.Returned != len(h.Observations) || h.Returned > h.Total {
			t.Fatalf("%s: returned %d of %d with %d observations", args, h.Returned, h.Total, len(h.Observations))
		}
		// The layout sorts as text, so the window is a string range.
		for _, o := range h.Observations {
			if o.Timestamp < h.Start || o.Timestamp >= h.End {
				t.Fatalf("%s: record %s outside [%s, %s)", args, o.Timestamp, h.Start, h.End)
			}
		}
	})
}
