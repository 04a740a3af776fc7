// Package tsfm provides the time-series agent's tools — forecasting,
// fitting and conformal anomaly detection over files in the run's folder —
// and the models behind them, all implemented here in Go.
package tsfm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
)

// Tools returns the TSFM tools.
func Tools() []tools.Tool {
	return []tools.Tool{
		tools.New("tsfm.get_ai_tasks", "List the time-series tasks this agent performs and the tool for each.", getTasks),
		tools.New("tsfm.get_tsfm_models", "List the forecasting models available, with context lengths and horizons.", getModels),
		tools.New("tsfm.run_tsfm_forecasting", "Forecast columns of a data file (an iot.history file or a CSV in the run's folder) "+
			"past their last reading. Writes the forecast to a JSON file; short forecasts are also returned inline.", runForecasting),
		tools.New("tsfm.run_tsfm_finetuning", "Fit a tunable model's smoothing to columns of a data file on a chronological split, "+
			"save the fitted model (usable as model_checkpoint) and report test metrics against the untuned model and seasonal naive.", runFinetuning),
		tools.New("tsfm.run_tsad", "Conformal anomaly detection on one-step forecast residuals of columns of a data file: "+
			"points whose residual exceeds the calibrated bound are anomalies, at the given false-alarm rate. Writes a CSV.", runTSAD),
		tools.New("tsfm.run_integrated_tsad", "Anomaly detection over many columns at once (all numeric ones by default): picks the "+
			"best-forecasting model per column, then detects with adaptive conformal bounds. Writes one CSV with a KPI column.", runIntegratedTSAD),
	}
}

// Task is an analysis task the agent performs.
type Task struct {
	TaskID      string `json:"task_id"`
	Description string `json:"task_description"`
	Tool        string `json:"tool"`
}

// Tasks keeps the original's task ids where the task exists here.
var Tasks = []Task{
	{"tsfm_forecasting", "Time series multivariate forecasting", "tsfm.run_tsfm_forecasting"},
	{"tsfm_forecasting_finetune", "Fitting of forecasting models to a dataset", "tsfm.run_tsfm_finetuning"},
	{"tsfm_forecasting_evaluation", "Evaluation of forecasting models on a test split", "tsfm.run_tsfm_finetuning"},
	{"tsfm_tsad", "Conformal anomaly detection on forecast residuals", "tsfm.run_tsad"},
	{"tsfm_integrated_tsad", "Time series anomaly detection over many columns", "tsfm.run_integrated_tsad"},
}

type noArgs struct{}

type tasksOut struct {
	Tasks []Task `json:"tasks"`
}

func getTasks(context.Context, noArgs) (tasksOut, error) { return tasksOut{Tasks: Tasks}, nil }

type modelsOut struct {
	Models []ModelCard `json:"models"`
}

func getModels(context.Context, noArgs) (modelsOut, error) { return modelsOut{Models: Catalog}, nil }

// column is one target of a call, on its regular grid.
type column struct {
	name string
	reg  Regular
}

// load reads a data file of the run and puts the target columns (all
// numeric ones when targets is empty and all is set) on regular grids.
func load(ctx context.Context, path, timestampColumn string, targets []string, all bool) ([]column, error) {
	if strings.TrimSpace(path) == "" {
		return nil, fmt.Errorf("dataset_path is empty: give a file from the run's folder, e.g. the file_path of iot.history")
	}
	real, err := tools.EnvFrom(ctx).Resolve(path)
	if err != nil {
		return nil, err
	}
	fr, err := ReadFrame(real, timestampColumn)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(targets) == 0 {
		if !all {
			return nil, fmt.Errorf("target_columns is empty (columns: %s)", strings.Join(slices.Sorted(maps.Keys(fr.Columns)), ", "))
		}
		targets = slices.Sorted(maps.Keys(fr.Columns))
	}
	var out []column
	seen := map[string]bool{}
	for _, t := range targets {
		name, err := fr.Column(t)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		reg, err := fr.Regularize(name)
		if err != nil {
			return nil, err
		}
		out = append(out, column{name: name, reg: reg})
	}
	return out, nil
}

// fileName is deterministic in the call's inputs, so a replayed run writes
// the same files under the same names.
func fileName(prefix, ext string, parts ...any) string {
	sum := sha256.Sum256(fmt.Append(nil, parts...))
	return prefix + "-" + hex.EncodeToString(sum[:5]) + ext
}

func openIn(ctx context.Context) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		p, err := tools.EnvFrom(ctx).Resolve(name)
		if err != nil {
			return nil, err
		}
		return os.ReadFile(p)
	}
}

func timeString(t time.Time) string { return fixtures.LocalTime{Time: t}.String() }

// Quality says what a column's data was like.
type Quality struct {
	Column string `json:"column"`
	Points int    `json:"points"` // grid points from first to last reading
	Filled int    `json:"filled"` // interpolated over short gaps
	Gaps   int    `json:"gaps"`   // gaps longer than MaxFill steps, left open
}

func quality(c column) Quality {
	return Quality{Column: c.name, Points: len(c.reg.Values), Filled: c.reg.Filled, Gaps: c.reg.Gaps}
}

// --- forecasting ---

// dataIn names the file a tsfm tool reads.
type dataIn struct {
	DatasetPath     string `json:"dataset_path" jsonschema:"a file in the run's folder: the file_path of iot.history or a CSV"`
	TimestampColumn string `json:"timestamp_column,omitempty" jsonschema:"the CSV's timestamp column (default timestamp)"`
}

type forecastIn struct {
	dataIn
	TargetColumns   []string `json:"target_columns" jsonschema:"columns to forecast, by full name or a unique ending (Tonnage)"`
	ModelCheckpoint string   `json:"model_checkpoint,omitempty" jsonschema:"a model_id of get_tsfm_models or a model file saved by run_tsfm_finetuning (default seasonal_naive_daily)"`
	ForecastHorizon int      `json:"forecast_horizon,omitempty" jsonschema:"steps to forecast; 0 or -1: the model's horizon"`
}

// Forecast is one column's forecast.
type Forecast struct {
	Column     string    `json:"column"`
	Timestamps []string  `json:"timestamps"`
	Values     []float64 `json:"values"`
}

// ForecastFile is what run_tsfm_forecasting writes.
type ForecastFile struct {
	ModelCheckpoint string     `json:"model_checkpoint"`
	Step            string     `json:"step"`
	Forecasts       []Forecast `json:"forecasts"`
}

type forecastSummary struct {
	Column        string  `json:"column"`
	HistoryEnd    string  `json:"history_end"`
	ContextPoints int     `json:"context_points"`
	ForecastStart string  `json:"forecast_start"`
	ForecastEnd   string  `json:"forecast_end"`
	Min           float64 `json:"min"`
	Max           float64 `json:"max"`
	Mean          float64 `json:"mean"`
}

type forecastOut struct {
	Status          string            `json:"status"`
	ModelCheckpoint string            `json:"model_checkpoint"`
	ForecastHorizon int               `json:"forecast_horizon"`
	Step            string            `json:"step"`
	ResultsFile     string            `json:"results_file"`
	Summary         []forecastSummary `json:"summary"`
	DataQuality     []Quality         `json:"data_quality"`
	// Forecasts are inline when they are short (at most maxInline values).
	Forecasts []Forecast `json:"forecasts,omitempty"`
	Message   string     `json:"message"`
}

const maxInline = 200

func runForecasting(ctx context.Context, in forecastIn) (forecastOut, error) {
	cols, err := load(ctx, in.DatasetPath, in.TimestampColumn, in.TargetColumns, false)
	if err != nil {
		return forecastOut{}, err
	}
	out := forecastOut{Status: "success", Step: cols[0].reg.Step.String()}
	file := ForecastFile{Step: out.Step}
	values := 0
	for _, c := range cols {
		m, err := resolve(in.ModelCheckpoint, c.name, c.reg.Step, openIn(ctx))
		if err != nil {
			return forecastOut{}, err
		}
		out.ModelCheckpoint, file.ModelCheckpoint = m.id, m.id
		h := in.ForecastHorizon
		switch {
		case h == 0 || h == -1:
			h = m.horizon
		case h < 0 || h > 10*m.horizon:
			return forecastOut{}, fmt.Errorf("forecast_horizon %d out of range 1..%d for %s", h, 10*m.horizon, m.card.ModelID)
		}
		out.ForecastHorizon = h
		start, tail := c.reg.tail()
		if len(tail) < m.context {
			return forecastOut{}, fmt.Errorf("%s: its last continuous stretch has %d points, %s needs %d (context_length); "+
				"fetch a longer window or choose a model with a shorter context", c.name, len(tail), m.card.ModelID, m.context)
		}
		pred, err := m.model.Forecast(tail[len(tail)-m.context:], h)
		if err != nil {
			return forecastOut{}, fmt.Errorf("%s: %w", c.name, err)
		}
		last := c.reg.Time(start + len(tail) - 1)
		f := Forecast{Column: c.name}
		s := forecastSummary{Column: c.name, HistoryEnd: timeString(last), ContextPoints: m.context, Min: math.Inf(1), Max: math.Inf(-1)}
		for i, v := range pred {
			f.Timestamps = append(f.Timestamps, timeString(last.Add(time.Duration(i+1)*c.reg.Step)))
			f.Values = append(f.Values, round(v))
			s.Min, s.Max, s.Mean = math.Min(s.Min, v), math.Max(s.Max, v), s.Mean+v/float64(len(pred))
		}
		s.ForecastStart, s.ForecastEnd = f.Timestamps[0], f.Timestamps[len(f.Timestamps)-1]
		s.Min, s.Max, s.Mean = round(s.Min), round(s.Max), round(s.Mean)
		file.Forecasts = append(file.Forecasts, f)
		out.Summary = append(out.Summary, s)
		out.DataQuality = append(out.DataQuality, quality(c))
		values += len(pred)
	}
	b, err := json.Marshal(file)
	if err != nil {
		return forecastOut{}, err
	}
	name := fileName("forecast", ".json", in.DatasetPath, in.TimestampColumn, in.TargetColumns, out.ModelCheckpoint, out.ForecastHorizon)
	if out.ResultsFile, err = tools.EnvFrom(ctx).WriteFile(name, b); err != nil {
		return forecastOut{}, err
	}
	if values <= maxInline {
		out.Forecasts = file.Forecasts
	}
	out.Message = fmt.Sprintf("Forecast %d steps of %d column(s) with %s; results in %s.", out.ForecastHorizon, len(cols), out.ModelCheckpoint, out.ResultsFile)
	return out, nil
}

// --- fine-tuning ---

type finetuneIn struct {
	dataIn
	TargetColumns   []string `json:"target_columns" jsonschema:"columns to fit, by full name or a unique ending"`
	ModelCheckpoint string   `json:"model_checkpoint,omitempty" jsonschema:"a tunable model_id (default holt_winters_daily)"`
	NFinetune       float64  `json:"n_finetune,omitempty" jsonschema:"points to fit on, just before the test split: a share (at most 1) or a count; 0: all of them"`
	NTest           float64  `json:"n_test,omitempty" jsonschema:"the test split at the end: a share (at most 1) or a count (default 0.2)"`
}

// Metrics are forecast errors on the test split.
type Metrics struct {
	OneStepMAE  float64 `json:"one_step_mae"`
	OneStepRMSE float64 `json:"one_step_rmse"`
	// Horizon errors forecast from the end of training, up to the model's
	// horizon or the test split's length.
	HorizonSteps int     `json:"horizon_steps"`
	HorizonMAE   float64 `json:"horizon_mae"`
	HorizonRMSE  float64 `json:"horizon_rmse"`
}

// FitReport is one column's fit.
type FitReport struct {
	Column        string    `json:"column"`
	TrainStart    string    `json:"train_start"`
	TrainEnd      string    `json:"train_end"`
	TrainPoints   int       `json:"train_points"`
	TestPoints    int       `json:"test_points"`
	Params        Smoothing `json:"params"`
	Tuned         Metrics   `json:"tuned"`
	Untuned       Metrics   `json:"untuned"`
	SeasonalNaive Metrics   `json:"seasonal_naive"`
}

type finetuneOut struct {
	Status          string      `json:"status"`
	ModelCheckpoint string      `json:"model_checkpoint"` // the saved model's file
	BaseModel       string      `json:"base_model"`
	ResultsFile     string      `json:"results_file"`
	Fits            []FitReport `json:"fits"`
	DataQuality     []Quality   `json:"data_quality"`
	Message         string      `json:"message"`
}

// count turns a share (≤1) or a count (>1) of n into a count.
func count(x float64, n int, name string) (int, error) {
	switch {
	case x < 0 || math.IsNaN(x):
		return 0, fmt.Errorf("%s %g must not be negative", name, x)
	case x <= 1:
		return int(math.Round(x * float64(n))), nil
	case x != math.Trunc(x):
		return 0, fmt.Errorf("%s %g is neither a share (at most 1) nor a whole count", name, x)
	}
	return int(x), nil
}

func runFinetuning(ctx context.Context, in finetuneIn) (finetuneOut, error) {
	base := in.ModelCheckpoint
	if base == "" {
		base = "holt_winters_daily"
	}
	c, ok := card(base)
	if !ok {
		return finetuneOut{}, fmt.Errorf("unknown model %q (tunable: holt_winters_daily, holt_winters_weekly)", base)
	}
	if !c.Tunable {
		return finetuneOut{}, fmt.Errorf("%s has no parameters to fit (tunable: holt_winters_daily, holt_winters_weekly)", c.ModelID)
	}
	cols, err := load(ctx, in.DatasetPath, in.TimestampColumn, in.TargetColumns, false)
	if err != nil {
		return finetuneOut{}, err
	}
	nTest := in.NTest
	if nTest == 0 {
		nTest = 0.2
	}
	tm := TunedModel{BaseModel: c.ModelID, DatasetPath: in.DatasetPath, Params: map[string]Smoothing{}}
	out := finetuneOut{Status: "success", BaseModel: c.ModelID}
	for _, col := range cols {
		m, err := resolve(c.ModelID, col.name, col.reg.Step, nil)
		if err != nil {
			return finetuneOut{}, err
		}
		tm.StepSeconds = int(col.reg.Step / time.Second)
		start, y := col.reg.tail()
		test, err := count(nTest, len(y), "n_test")
		if err != nil {
			return finetuneOut{}, err
		}
		if test < 1 || test >= len(y) {
			return finetuneOut{}, fmt.Errorf("%s: n_test %g leaves %d test points of %d", col.name, nTest, test, len(y))
		}
		train := len(y) - test
		if in.NFinetune != 0 {
			n, err := count(in.NFinetune, train, "n_finetune")
			if err != nil {
				return finetuneOut{}, err
			}
			train = min(n, train)
		}
		from := len(y) - test - train
		hw := m.model.(HoltWinters)
		fitted, _, err := hw.Fit(y[from : from+train])
		if err != nil {
			return finetuneOut{}, fmt.Errorf("%s: %d points before the test split: %w", col.name, train, err)
		}
		stretch := y[from:]
		r := FitReport{
			Column: col.name, TrainPoints: train, TestPoints: test,
			TrainStart: timeString(col.reg.Time(start + from)), TrainEnd: timeString(col.reg.Time(start + from + train - 1)),
			Params: Smoothing{Alpha: fitted.Alpha, Beta: fitted.Beta, Gamma: fitted.Gamma},
		}
		if r.Tuned, err = evaluate(fitted, stretch, train, m.horizon); err != nil {
			return finetuneOut{}, fmt.Errorf("%s: %w", col.name, err)
		}
		if r.Untuned, err = evaluate(hw, stretch, train, m.horizon); err != nil {
			return finetuneOut{}, fmt.Errorf("%s: %w", col.name, err)
		}
		if r.SeasonalNaive, err = evaluate(seasonalNaive{m.season}, stretch, train, m.horizon); err != nil {
			return finetuneOut{}, fmt.Errorf("%s: %w", col.name, err)
		}
		tm.Params[col.name] = r.Params
		if tm.TrainStart == "" || r.TrainStart < tm.TrainStart {
			tm.TrainStart = r.TrainStart
		}
		tm.TrainEnd = max(tm.TrainEnd, r.TrainEnd)
		out.Fits = append(out.Fits, r)
		out.DataQuality = append(out.DataQuality, quality(col))
	}
	env := tools.EnvFrom(ctx)
	key := []any{in.DatasetPath, in.TimestampColumn, in.TargetColumns, c.ModelID, in.NFinetune, nTest}
	tm.ModelID = fileName("tuned-"+c.ModelID, ".json", key...)
	b, err := json.Marshal(tm)
	if err != nil {
		return finetuneOut{}, err
	}
	if out.ModelCheckpoint, err = env.WriteFile(tm.ModelID, b); err != nil {
		return finetuneOut{}, err
	}
	if b, err = json.Marshal(out.Fits); err != nil {
		return finetuneOut{}, err
	}
	if out.ResultsFile, err = env.WriteFile(fileName("finetune-metrics", ".json", key...), b); err != nil {
		return finetuneOut{}, err
	}
	out.Message = fmt.Sprintf("Fitted %s to %d column(s); pass model_checkpoint %q to run_tsfm_forecasting or run_tsad to use it.",
		c.ModelID, len(cols), out.ModelCheckpoint)
	return out, nil
}

// evaluate scores m on y[train:]: one step at a time, and over a horizon
// forecast from y[:train].
func evaluate(m Model, y []float64, train, horizon int) (Metrics, error) {
	pred := m.OneStep(y)
	var met Metrics
	met.OneStepMAE, met.OneStepRMSE = errorsOf(y[train:], pred[train:])
	h := min(horizon, len(y)-train)
	f, err := m.Forecast(y[:train], h)
	if err != nil {
		return Metrics{}, err
	}
	met.HorizonSteps = h
	met.HorizonMAE, met.HorizonRMSE = errorsOf(y[train:train+h], f)
	return met, nil
}

func errorsOf(y, pred []float64) (mae, rmse float64) {
	n := 0
	for i := range y {
		if d := y[i] - pred[i]; !math.IsNaN(d) {
			mae += math.Abs(d)
			rmse += d * d
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return round(mae / float64(n)), round(math.Sqrt(rmse / float64(n)))
}
