package tsfm_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/tsfm"
	"github.com/assetops/assetops/fixtures"
	"github.com/google/go-cmp/cmp"
)

var dataset = sync.OnceValue(func() *fixtures.Dataset { return fixtures.Generate(fixtures.DefaultSeed) })

// raw returns an asset's readings of one sensor in [start, end) from the
// generated tables, by time.
func raw(t *testing.T, asset, sensor string, start, end time.Time) ([]time.Time, []float64) {
	t.Helper()
	s, ok := dataset().Series(asset)
	if !ok {
		t.Fatalf("no series %s", asset)
	}
	col := s.Column(asset + " " + sensor)
	if col < 0 {
		t.Fatalf("no sensor %s %s", asset, sensor)
	}
	var ts []time.Time
	var vs []float64
	for i, lt := range s.Times {
		if !lt.Before(start) && lt.Before(end) && !math.IsNaN(s.Values[col][i]) {
			ts, vs = append(ts, lt.Time), append(vs, s.Values[col][i])
		}
	}
	return ts, vs
}

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }

type fixture struct {
	reg     *tools.Registry
	ctx     context.Context
	dir     string
	history string // an iot.history file of Chiller 9, June 2020
}

var june = [2]time.Time{time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC)}

func setup(t testing.TB) fixture {
	t.Helper()
	f := fixture{reg: agentstest.Registry(t), dir: t.TempDir()}
	f.ctx = tools.WithEnv(context.Background(), tools.Env{OutDir: f.dir})
	var h struct {
		FilePath string `json:"file_path"`
	}
	f.call(t, "iot.history", `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-01","end":"2020-07-01",
		"sensors":["Condenser Water Flow","Tonnage","Power Input"],"limit":1}`, &h)
	if h.FilePath == "" {
		t.Fatal("iot.history wrote no file")
	}
	f.history = h.FilePath
	return f
}

func (f fixture) call(t testing.TB, tool, args string, out any) {
	t.Helper()
	b, err := f.reg.Call(f.ctx, tool, json.RawMessage(args))
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

type forecastResult struct {
	ModelCheckpoint string `json:"model_checkpoint"`
	ForecastHorizon int    `json:"forecast_horizon"`
	ResultsFile     string `json:"results_file"`
	Summary         []struct {
		HistoryEnd    string `json:"history_end"`
		ForecastStart string `json:"forecast_start"`
	} `json:"summary"`
	Forecasts []tsfm.Forecast `json:"forecasts"`
}

// Seasonal naive repeats the season before the end of the data: checked
// against the generated tables, through the iot.history file and a CSV.
func TestForecastingSeasonalNaive(t *testing.T) {
	f := setup(t)
	_, tonnage := raw(t, "Chiller 9", "Tonnage", june[0], june[1])
	// The same data as a CSV with a "Timestamp" column, as the original's files have.
	ts, _ := raw(t, "Chiller 9", "Tonnage", june[0], june[1])
	var b strings.Builder
	b.WriteString("Timestamp,Chiller 9 Tonnage\n")
	for i := range ts {
		fmt.Fprintf(&b, "%s,%v\n", fixtures.LocalTime{Time: ts[i]}, tonnage[i])
	}
	if err := os.WriteFile(filepath.Join(f.dir, "tonnage.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, args string
		season     int
		horizon    int
		inline     bool
	}{
		{"daily", `{"dataset_path":%q,"target_columns":["Tonnage"]}`, 96, 96, true},
		{"weekly", `{"dataset_path":%q,"target_columns":["Chiller 9 Tonnage"],"model_checkpoint":"seasonal_naive_weekly","forecast_horizon":-1}`, 672, 96, true},
		{"long", `{"dataset_path":%q,"target_columns":["tonnage"],"forecast_horizon":300}`, 96, 300, false},
	} {
		for _, path := range []string{f.history, "tonnage.csv"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				args := fmt.Sprintf(tt.args, path)
				if strings.HasSuffix(path, ".csv") {
					args = strings.Replace(args, "{", `{"timestamp_column":"Timestamp",`, 1)
				}
				var out forecastResult
				f.call(t, "tsfm.run_tsfm_forecasting", args, &out)
				if out.ForecastHorizon != tt.horizon || out.Summary[0].HistoryEnd != "2020-06-30T23:45:00" || out.Summary[0].ForecastStart != "2020-07-01T00:00:00" {
					t.Errorf("horizon %d, summary %+v", out.ForecastHorizon, out.Summary)
				}
				want := make([]float64, tt.horizon)
				for h := range want {
					want[h] = round(tonnage[len(tonnage)-tt.season+h%tt.season])
				}
				var file tsfm.ForecastFile
				b, err := os.ReadFile(filepath.Join(f.dir, out.ResultsFile))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &file); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, file.Forecasts[0].Values); diff != "" {
					t.Errorf("forecast (-want +got):\n%s", diff)
				}
				if tt.inline != (len(out.Forecasts) == 1) {
					t.Errorf("inline forecasts: %d, want inline %v", len(out.Forecasts), tt.inline)
				}
			})
		}
	}
}

// A fitted model is saved, reported and used as given.
func TestFinetuningSavesAUsableModel(t *testing.T) {
	f := setup(t)
	var out struct {
		ModelCheckpoint string `json:"model_checkpoint"`
		Fits            []struct {
			Column      string `json:"column"`
			TrainPoints int    `json:"train_points"`
			TestPoints  int    `json:"test_points"`
			TrainEnd    string `json:"train_end"`
			Params      struct{ Alpha, Beta, Gamma float64 }
			Tuned       tsfm.Metrics `json:"tuned"`
			Untuned     tsfm.Metrics `json:"untuned"`
		} `json:"fits"`
	}
	f.call(t, "tsfm.run_tsfm_finetuning", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Power Input"],"n_test":480}`, f.history), &out)
	fit := out.Fits[0]
	if fit.Column != "Chiller 9 Power Input" || fit.TestPoints != 480 || fit.TrainPoints != 2880-480 || fit.TrainEnd != "2020-06-25T23:45:00" {
		t.Errorf("split: %+v", fit)
	}
	if fit.Tuned.HorizonSteps != 96 || fit.Tuned.OneStepMAE <= 0 {
		t.Errorf("tuned metrics: %+v", fit.Tuned)
	}
	// Forecasting with the saved file uses its parameters over the last week.
	var fc forecastResult
	f.call(t, "tsfm.run_tsfm_forecasting", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Power Input"],"model_checkpoint":%q}`, f.history, out.ModelCheckpoint), &fc)
	_, power := raw(t, "Chiller 9", "Power Input", june[0], june[1])
	hw := tsfm.HoltWinters{Season: 96, Alpha: fit.Params.Alpha, Beta: fit.Params.Beta, Gamma: fit.Params.Gamma}
	want, err := hw.Forecast(power[len(power)-672:], 96)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i] = round(want[i])
	}
	if diff := cmp.Diff(want, fc.Forecasts[0].Values); diff != "" {
		t.Errorf("forecast with the tuned model (-want +got):\n%s", diff)
	}
	if fc.ModelCheckpoint != out.ModelCheckpoint {
		t.Errorf("model_checkpoint %q, want %q", fc.ModelCheckpoint, out.ModelCheckpoint)
	}
}

type tsadResult struct {
	ResultsFile  string                 `json:"results_file"`
	TotalRecords int                    `json:"total_records"`
	AnomalyCount int                    `json:"anomaly_count"`
	PerColumn    []tsfm.ColumnDetection `json:"per_column"`
	TopWindows   []tsfm.Window          `json:"top_windows"`
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// run_tsad's CSV agrees with its summary and with the raw data: split
// conformal has one bound, and a point is an anomaly when its residual
// from the value a day before exceeds it.
func TestTSADCSV(t *testing.T) {
	f := setup(t)
	var out tsadResult
	f.call(t, "tsfm.run_tsad", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage","Flow"],"false_alarm":0.01}`, f.history), &out)
	rows := readCSV(t, filepath.Join(f.dir, out.ResultsFile))
	if diff := cmp.Diff([]string{"timestamp", "KPI", "value", "prediction", "residual", "threshold", "anomaly_label"}, rows[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	rows = rows[1:]
	if len(rows) != out.TotalRecords || out.TotalRecords != 2*2880 {
		t.Errorf("%d rows, total_records %d, want 2 columns × 2880", len(rows), out.TotalRecords)
	}
	_, tonnage := raw(t, "Chiller 9", "Tonnage", june[0], june[1])
	anomalies, bounds := map[string]int{}, map[string]map[string]bool{}
	for i, r := range rows {
		if r[6] == "1" {
			anomalies[r[1]]++
		}
		if bounds[r[1]] == nil {
			bounds[r[1]] = map[string]bool{}
		}
		if r[5] != "" {
			bounds[r[1]][r[5]] = true
			v, _ := strconv.ParseFloat(r[4], 64)
			thr, _ := strconv.ParseFloat(r[5], 64)
			if (math.Abs(v) > thr) != (r[6] == "1") && math.Abs(math.Abs(v)-thr) > 1e-3 {
				t.Errorf("row %d: |residual| %s vs bound %s labelled %s", i+2, r[4], r[5], r[6])
			}
		}
		if r[1] == "Chiller 9 Tonnage" && i >= 96 && i < 2880 {
			if p, _ := strconv.ParseFloat(r[3], 64); p != round(tonnage[i-96]) {
				t.Fatalf("row %d: prediction %s, want the value a day before, %v", i+2, r[3], tonnage[i-96])
			}
		}
	}
	total := 0
	for _, c := range out.PerColumn {
		total += c.Anomalies
		if anomalies[c.Column] != c.Anomalies || len(bounds[c.Column]) != 1 {
			t.Errorf("%s: %d anomalies in the CSV, %d reported; %d distinct bounds, want 1", c.Column, anomalies[c.Column], c.Anomalies, len(bounds[c.Column]))
		}
		// Split conformal over 80% of the scored points at 1%.
		if rate := float64(c.Anomalies) / float64(c.Scored); rate > 0.05 {
			t.Errorf("%s: %.3f of points flagged at a 1%% false-alarm rate", c.Column, rate)
		}
	}
	if total != out.AnomalyCount {
		t.Errorf("anomaly_count %d, columns sum to %d", out.AnomalyCount, total)
	}
}

// Integrated detection covers every numeric column by default and names
// the model it chose for each.
func TestIntegratedTSAD(t *testing.T) {
	f := setup(t)
	var out tsadResult
	f.call(t, "tsfm.run_integrated_tsad", fmt.Sprintf(`{"dataset_path":%q}`, f.history), &out)
	var cols []string
	for _, c := range out.PerColumn {
		cols = append(cols, c.Column)
		if _, ok := tsfmModel(c.Model); !ok {
			t.Errorf("%s: model %q is not in the catalog", c.Column, c.Model)
		}
		// Adaptive bounds at 5%: about 5% flagged.
		if rate := float64(c.Anomalies) / float64(c.Scored); rate < 0.02 || rate > 0.08 {
			t.Errorf("%s: %.3f of points flagged at a 5%% false-alarm rate", c.Column, rate)
		}
	}
	want := []string{"Chiller 9 Condenser Water Flow", "Chiller 9 Power Input", "Chiller 9 Tonnage"}
	if diff := cmp.Diff(want, cols); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	kpis := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(f.dir, out.ResultsFile))[1:] {
		kpis[r[1]] = true
	}
	if len(kpis) != 3 {
		t.Errorf("KPI column holds %v", kpis)
	}
}

func tsfmModel(id string) (tsfm.ModelCard, bool) {
	for _, c := range tsfm.Catalog {
		if c.ModelID == id {
			return c, true
		}
	}
	return tsfm.ModelCard{}, false
}

// The catalogs name only what exists: each task's tool is registered.
func TestCatalogs(t *testing.T) {
	f := setup(t)
	var tasks struct{ Tasks []tsfm.Task }
	f.call(t, "tsfm.get_ai_tasks", `{}`, &tasks)
	for _, task := range tasks.Tasks {
		if _, ok := f.reg.Lookup(task.Tool); !ok {
			t.Errorf("task %s names tool %s, which does not exist", task.TaskID, task.Tool)
		}
	}
	var models struct{ Models []tsfm.ModelCard }
	f.call(t, "tsfm.get_tsfm_models", `{}`, &models)
	if len(models.Models) != len(tsfm.Catalog) || models.Models[0].ModelID != "seasonal_naive_daily" {
		t.Errorf("models: %+v", models.Models)
	}
}

// Errors tell the agent what to change.
func TestTSFMErrors(t *testing.T) {
	f := setup(t)
	outside := filepath.Join(filepath.Dir(f.dir), "outside.csv")
	if err := os.WriteFile(outside, []byte("timestamp,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(outside) })
	short := "timestamp,x\n"
	for i := range 300 {
		short += fmt.Sprintf("%s,%d\n", fixtures.LocalTime{Time: june[0].Add(time.Duration(i) * 15 * time.Minute)}, i%7)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "short.csv"), []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	h := f.history
	for _, tt := range []struct{ tool, args, want string }{
		{"tsfm.run_tsfm_forecasting", `{"dataset_path":"","target_columns":["x"]}`, "dataset_path is empty"},
		{"tsfm.run_tsfm_forecasting", `{"dataset_path":"none.csv","target_columns":["x"]}`, `no file "none.csv"`},
		{"tsfm.run_tsfm_forecasting", `{"dataset_path":"../outside.csv","target_columns":["x"]}`, "outside the run's output folder"},
		{"tsfm.run_tsfm_forecasting", fmt.Sprintf(`{"dataset_path":%q,"target_columns":[]}`, h), "target_columns is empty (columns: Chiller 9 Condenser Water Flow"},
		{"tsfm.run_tsfm_forecasting", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Vibration"]}`, h), `no column "Vibration"`},
		{"tsfm.run_tsfm_forecasting", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"model_checkpoint":"ttm_96_28"}`, h), `unknown model "ttm_96_28" (models: seasonal_naive_daily`},
		{"tsfm.run_tsfm_forecasting", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"forecast_horizon":5000}`, h), "forecast_horizon 5000 out of range 1..960"},
		{"tsfm.run_tsfm_forecasting", `{"dataset_path":"short.csv","target_columns":["x"],"model_checkpoint":"holt_winters_daily"}`, "x: its last continuous stretch has 300 points, holt_winters_daily needs 672 (context_length)"},
		{"tsfm.run_tsfm_finetuning", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"model_checkpoint":"seasonal_naive_daily"}`, h), "has no parameters to fit"},
		{"tsfm.run_tsfm_finetuning", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"n_test":2.5}`, h), "neither a share"},
		{"tsfm.run_tsfm_finetuning", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"n_test":3000}`, h), "leaves 3000 test points of 2880"},
		{"tsfm.run_tsfm_finetuning", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"n_finetune":100}`, h), "fitting needs three seasons"},
		{"tsfm.run_tsad", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"false_alarm":1.5}`, h), "false_alarm 1.5 must be between 0 and 1"},
		{"tsfm.run_tsad", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"ad_model_type":"isolation_forest"}`, h), `unknown ad_model_type "isolation_forest"`},
		{"tsfm.run_tsad", fmt.Sprintf(`{"dataset_path":%q,"target_columns":["Tonnage"],"tsfm_output_json":"x.json"}`, h), `unexpected additional properties ["tsfm_output_json"]`},
	} {
		t.Run(tt.tool+" "+tt.args, func(t *testing.T) {
			_, err := f.reg.Call(f.ctx, tt.tool, json.RawMessage(tt.args))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Without an output folder there is nothing to read.
	_, err := f.reg.Call(context.Background(), "tsfm.run_tsad", json.RawMessage(`{"dataset_path":"x.csv","target_columns":["x"]}`))
	if err == nil || !strings.Contains(err.Error(), "no output folder") {
		t.Errorf("no output folder: %v", err)
	}
}
