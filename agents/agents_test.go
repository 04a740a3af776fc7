package agents_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents"
	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tsfm"
)

// The domain tools over the skeleton dataset, called as a model would.
func TestDomainTools(t *testing.T) {
	reg := agents.Registry(agentstest.Store(t))
	history := func(extra string) string {
		return `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-03T14:00:00","end":"2020-06-03T15:00:00"` + extra + `}`
	}
	tests := []struct {
		tool, args string
		want       map[string]any // top-level fields of the result
		wantErr    string
	}{
		{tool: "iot.sites", args: `{}`, want: map[string]any{"sites": []any{"MAIN"}}},
		{tool: "iot.assets", args: `{"site_name":"main"}`, want: map[string]any{"site_name": "MAIN", "total_assets": 6.0}},
		{tool: "iot.assets", args: `{"site_name":"NORTH"}`, wantErr: `unknown site "NORTH" (sites: MAIN)`},
		{tool: "iot.sensors", args: `{"site_name":"MAIN","asset_id":"chiller 6"}`, want: map[string]any{"asset_id": "Chiller 6", "total_sensors": 13.0}},
		{tool: "iot.sensors", args: `{"site_name":"MAIN","asset_id":"CQPA AHU 2B"}`, want: map[string]any{"total_sensors": 16.0}},
		{tool: "iot.sensors", args: `{"site_name":"MAIN","asset_id":"Chiller 60"}`, wantErr: `unknown asset "Chiller 60" at site MAIN (assets: CQPA AHU 1, CQPA AHU 2B, Chiller 3, Chiller 4, Chiller 6, Chiller 9)`},
		{tool: "iot.history", args: history(``), want: map[string]any{"total_observations": 4.0, "returned": 4.0, "truncated": false}},
		{tool: "iot.history", args: history(`,"sensors":["Tonnage","Chiller 9 Power Input"]`), want: map[string]any{"sensors": []any{"Chiller 9 Tonnage", "Chiller 9 Power Input"}}},
		{tool: "iot.history", args: history(`,"limit":3`), want: map[string]any{"total_observations": 4.0, "returned": 3.0, "truncated": true}},
		{tool: "iot.history", args: history(`,"sensors":["Vibration"]`), wantErr: `asset Chiller 9 has no sensor "Vibration"`},
		{tool: "iot.history", args: history(`,"limit":5000`), wantErr: "limit 5000 out of range 1..1000"},
		{tool: "iot.history", args: `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-03T15:00:00","end":"2020-06-03T14:00:00"}`, wantErr: "is not before end"},
		{tool: "iot.history", args: `{"site_name":"MAIN","asset_id":"Chiller 9","start":"June 3rd","end":"2020-06-03"}`, wantErr: `start: cannot read time "June 3rd"`},
		{tool: "iot.history", args: `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2021-01-01","end":"2021-01-02"}`, want: map[string]any{"total_observations": 0.0, "observations": []any{}}},
		{tool: "iot.history", args: `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-01","end":"2020-07-01","limit":1000}`, want: map[string]any{"total_observations": 2880.0, "returned": 1000.0, "truncated": true}},
		{tool: "fmsr.get_failure_modes", args: `{"asset_name":"Chiller 6"}`, want: map[string]any{"asset_class": "chiller", "total": 18.0}},
		{tool: "fmsr.get_failure_modes", args: `{"asset_name":"chiller"}`, want: map[string]any{"asset_class": "chiller", "total": 18.0}},
		{tool: "fmsr.get_failure_modes", args: `{"asset_name":"CQPA AHU 2B"}`, want: map[string]any{"asset_class": "ahu", "total": 18.0}},
		{tool: "fmsr.get_failure_modes", args: `{"asset_name":"Wind Turbine 2"}`, wantErr: `no failure modes for asset class "wind turbine" (classes: ahu, chiller, cooling tower)`},
		{tool: "tsfm.get_tsfm_models", args: `{}`, want: map[string]any{"models": tsfm.Catalog}},
		{tool: "wo.get_work_orders", args: `{"equipment_id":"cwc04009","start_date":"2020-06-01","end_date":"2020-06-30"}`, want: map[string]any{"equipment_id": "CWC04009", "total": 3.0, "preventive": 2.0, "corrective": 1.0}},
		{tool: "wo.get_work_orders", args: `{"equipment_id":"CWC04009","start_date":"2020-06-16","end_date":"2020-06-16"}`, want: map[string]any{"total": 1.0, "corrective": 1.0}},
		{tool: "wo.get_work_orders", args: `{"equipment_id":"CWC04013"}`, want: map[string]any{"total": 381.0}},
		{tool: "wo.get_work_orders", args: `{"equipment_id":"CWC09999"}`, wantErr: `unknown equipment "CWC09999" (equipment: AHU04101, AHU0412B, CWC04006`},
		{tool: "wo.get_work_orders", args: `{"equipment_id":"CWC04009","start_date":"06/01/2020"}`, wantErr: `start_date: cannot read date "06/01/2020"`},
		{tool: "wo.get_work_orders", args: `{"equipment_id":"CWC04009","start_date":"2020-07-01","end_date":"2020-06-01"}`, wantErr: "is after end_date"},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.args, func(t *testing.T) {
			out, err := reg.Call(context.Background(), tt.tool, json.RawMessage(tt.args))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if g, _ := json.Marshal(got[k]); string(g) != mustJSON(want) {
					t.Errorf("%s = %s, want %s", k, g, mustJSON(want))
				}
			}
		})
	}
}

// A half-open window: the end instant is excluded, the start included.
func TestHistoryWindowIsHalfOpen(t *testing.T) {
	reg := agents.Registry(agentstest.Store(t))
	out, err := reg.Call(context.Background(), "iot.history",
		json.RawMessage(`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-02T23:30:00","end":"2020-06-03T00:00:00","sensors":["Tonnage"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Observations []struct{ Timestamp string } `json:"observations"`
	}
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatal(err)
	}
	var ts []string
	for _, o := range h.Observations {
		ts = append(ts, o.Timestamp)
	}
	if strings.Join(ts, " ") != "2020-06-02T23:30:00 2020-06-02T23:45:00" {
		t.Errorf("timestamps %v, want 23:30 and 23:45 (the window ends at midnight, inside the next day's document)", ts)
	}
}

// mustJSON encodes v with object keys sorted, as a decoded map would be.
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	var generic any
	_ = json.Unmarshal(b, &generic)
	b, _ = json.Marshal(generic)
	return string(b)
}
