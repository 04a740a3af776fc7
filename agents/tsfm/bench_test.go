package tsfm_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkTools times each tool's typical call on a month of Chiller 9
// (2,880 points a column) read from the iot.history file.
func BenchmarkTools(b *testing.B) {
	f := setup(b)
	var tuned struct {
		ModelCheckpoint string `json:"model_checkpoint"`
	}
	f.call(b, "tsfm.run_tsfm_finetuning", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"]}`, f.history), &tuned)
	for _, bc := range []struct {
		tool, args string
		columns    int
	}{
		{"tsfm.get_ai_tasks", `{}`, 0},
		{"tsfm.get_tsfm_models", `{}`, 0},
		{"tsfm.run_tsfm_forecasting", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"]}`, f.history), 1},
		{"tsfm.run_tsfm_forecasting", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"model_checkpoint":%q}`, f.history, tuned.ModelCheckpoint), 1},
		{"tsfm.run_tsfm_finetuning", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"]}`, f.history), 1},
		{"tsfm.run_tsad", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"]}`, f.history), 1},
		{"tsfm.run_integrated_tsad", fmt.Sprintf(`{"dataset_path":%q}`, f.history), 3},
	} {
		name := bc.tool
		if bc.columns > 0 {
			name = fmt.Sprintf("%s/%dcol", bc.tool, bc.columns)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := f.reg.Call(f.ctx, bc.tool, json.RawMessage(bc.args)); err != nil {
					b.Fatal(err)
				}
			}
			if bc.columns > 0 {
				b.ReportMetric(float64(bc.columns*2880*b.N)/b.Elapsed().Seconds(), "points/s")
			}
		})
	}
}
