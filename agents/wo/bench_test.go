package wo_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/wo"
)

// BenchmarkTools times each WO tool's typical call, as a model makes it,
// through the registry over the cached generated dataset.
func BenchmarkTools(b *testing.B) {
	reg := agentstest.Registry(b)
	dir := b.TempDir()
	ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: dir, Now: time.Date(2020, 7, 1, 10, 30, 0, 0, time.UTC)})
	june := `"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30"`
	calls := []struct{ tool, args string }{
		{"wo.get_work_orders", `{"equipment_id":"CWC04013","start_date":"2017-01-01","end_date":"2017-12-31"}`},
		{"wo.get_preventive_work_orders", `{"equipment_id":"CWC04013","start_date":"2017-01-01","end_date":"2017-12-31"}`},
		{"wo.get_corrective_work_orders", `{"equipment_id":"CWC04013","start_date":"2017-01-01","end_date":"2017-12-31"}`},
		{"wo.get_events", `{` + june + `}`},
		{"wo.summarize_events", `{` + june + `}`},
		{"wo.daily_event_counts", `{"equipment_id":"CWC04009","start_date":"2020-01-01","end_date":"2020-12-31","event_groups":["ALERT","ANOMALY"]}`},
		{"wo.get_failure_codes", `{}`},
		{"wo.get_work_order_distribution", `{"equipment_id":"CWC04009","start_date":"2017-01-01","end_date":"2019-12-31"}`},
		{"wo.predict_next_work_order", `{"equipment_id":"CWC04009"}`},
		{"wo.analyze_alert_to_failure", `{"equipment_id":"CWC04009","rule_id":"RUL0014"}`},
		{"wo.recommend_work_orders", `{"rule_id":"RUL0018","equipment_id":"CWC04009"}`},
		{"wo.bundle_corrective_work_orders", `{"equipment_id":"CWC04009","start_date":"2017-01-01","end_date":"2019-12-31"}`},
		{"wo.prioritize_work_orders", `{"equipment_id":"CWC04009","start_date":"2020-01-01","end_date":"2020-12-31","include_drafts":false}`},
		{"wo.create_work_order", `{"equipment_id":"CWC04009","primary_code":"M013","description":"Clean the condenser tubes","priority":2}`},
	}
	// Every WO tool is timed.
	seen := map[string]bool{}
	for _, c := range calls {
		seen[c.tool] = true
	}
	for _, name := range reg.Names() {
		if strings.HasPrefix(name, "wo.") && !seen[name] {
			b.Fatalf("%s has no benchmark", name)
		}
	}
	for _, c := range calls {
		b.Run(strings.TrimPrefix(c.tool, "wo."), func(b *testing.B) {
			args := json.RawMessage(c.args)
			if _, err := reg.Call(ctx, c.tool, args); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if c.tool == "wo.create_work_order" {
					// A run creates a few orders: start each call from an
					// empty sandbox, or every call rereads all the earlier.
					os.Remove(filepath.Join(dir, wo.DraftsFile))
				}
				if _, err := reg.Call(ctx, c.tool, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
