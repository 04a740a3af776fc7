package wo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tools"
)

// fuzzed are the tools FuzzCall feeds; the fuzzer picks one by index.
var fuzzed = []string{
	"wo.get_work_orders",
	"wo.get_events",
	"wo.daily_event_counts",
	"wo.predict_next_work_order",
	"wo.analyze_alert_to_failure",
	"wo.recommend_work_orders",
	"wo.bundle_corrective_work_orders",
	"wo.prioritize_work_orders",
	"wo.create_work_order",
}

// FuzzCall sends arbitrary arguments to the WO tools: a model's input must
// give a JSON result or an error, never a panic (which the registry turns
// into an internal error) nor a result that is not JSON. Without -fuzz it
// runs the seeds only.
func FuzzCall(f *testing.F) {
	reg := agentstest.Registry(f)
	seeds := map[string][]string{
		"wo.get_work_orders": {
			`{"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30"}`,
			`{"equipment_id":"cwc04013"}`,
			`{"equipment_id":"CWC04009","start_date":"2020-07-01","end_date":"2020-06-01"}`,
			`{"equipment_id":"CWC04009","start_date":"0001-01-01","end_date":"9999-12-31"}`,
			`{"equipment_id":"CWC04009","end_date":"1960-01-01"}`,
		},
		"wo.get_events": {
			`{"equipment_id":"CWC04009","event_group":"alert"}`,
			`{"equipment_id":"CWC04009","event_group":" "}`,
		},
		"wo.daily_event_counts": {
			`{"equipment_id":"CWC04009","start_date":"2020-05-01","end_date":"2020-05-31","event_groups":["ALERT","ANOMALY"]}`,
			`{"equipment_id":"CWC04009","event_groups":[""]}`,
			`{"equipment_id":"CWC04009","event_groups":null}`,
		},
		"wo.predict_next_work_order": {
			`{"equipment_id":"CWC04009"}`,
			`{"equipment_id":"CWC04009","start_date":"2030-01-01"}`,
			`{"equipment_id":"CWC04009","start_date":"2020-06-16","end_date":"2020-06-16"}`,
		},
		"wo.analyze_alert_to_failure": {
			`{"equipment_id":"CWC04009","rule_id":"RUL0018"}`,
			`{"equipment_id":"CWC04009","rule_id":"RUL0018","max_days":-5}`,
			`{"equipment_id":"CWC04009","rule_id":"RUL0018","max_days":9223372036854775807}`,
		},
		"wo.recommend_work_orders": {
			`{"kpi":"Efficiency","anomaly_type":"High","equipment_id":"CWC04703"}`,
			`{"rule_id":"RUL0018","kpi":"Efficiency"}`,
			`{"rule_id":""}`,
		},
		"wo.bundle_corrective_work_orders": {
			`{"equipment_id":"CWC04009","start_date":"2017-01-01","end_date":"2019-12-31"}`,
			`{"equipment_id":"CWC04009","window_days":9223372036854775807,"min_size":1}`,
			`{"equipment_id":"CWC04009","window_days":-9223372036854775808}`,
		},
		"wo.prioritize_work_orders": {
			`{"equipment_id":"CWC04009","work_order_ids":["WO216692","WO216692"]}`,
			`{"work_order_ids":[]}`,
			`{"equipment_id":"CWC04009","start_date":"2020-01-01","include_drafts":false}`,
		},
		"wo.create_work_order": {
			`{"equipment_id":"CWC04009","primary_code":"M013","description":"Clean the condenser tubes"}`,
			`{"equipment_id":"CWC04009","primary_code":"M013","description":"x","priority":-9223372036854775808}`,
			`{"equipment_id":"CWC04009","primary_code":"M013","description":"x","due_date":"0000-00-00"}`,
		},
	}
	broken := []string{``, `null`, `[]`, `"x"`, `{`, `{"equipment_id":null}`, `{"equipment_id":1e400}`, "{\"equipment_id\":\"\xff\"}", `{"equipment_id":"CWC04009","equipment_id":"CWC04006"}`}
	for i, tool := range fuzzed {
		for _, s := range seeds[tool] {
			f.Add(uint8(i), s)
		}
		for _, s := range broken {
			f.Add(uint8(i), s)
		}
	}
	now := time.Date(2020, 7, 1, 10, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, i uint8, args string) {
		tool := fuzzed[int(i)%len(fuzzed)]
		// A sandbox per call, so that created orders do not pile up.
		ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: t.TempDir(), Now: now})
		out, err := reg.Call(ctx, tool, json.RawMessage(args))
		if err != nil {
			if errors.Is(err, tools.ErrInternal) {
				t.Fatalf("%s %q: %v", tool, args, err)
			}
			if out != nil {
				t.Errorf("%s %q: result %s besides the error %v", tool, args, out, err)
			}
			if err.Error() == "" || !json.Valid(tools.ErrorResult(err)) {
				t.Errorf("%s %q: error %q gives no JSON error result", tool, args, err)
			}
			var ae *tools.ArgsError
			if trimmed := bytes.TrimSpace([]byte(args)); len(trimmed) > 0 && !json.Valid(trimmed) && !errors.As(err, &ae) {
				t.Errorf("%s %q: arguments that are not JSON gave %v, want an ArgsError", tool, args, err)
			}
			return
		}
		if !json.Valid(out) || !bytes.HasPrefix(out, []byte("{")) {
			t.Fatalf("%s %q: result is not a JSON object: %s", tool, args, out)
		}
		// The reading tools answer the same twice.
		if tool != "wo.create_work_order" {
			again, err := reg.Call(ctx, tool, json.RawMessage(args))
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("%s %q: a second call gave %v, %s", tool, args, err, again)
			}
		}
	})
}
