package tsfm

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/assetops/assetops/agents/tools"
)

// Conformal detector types, named as in the original.
const (
	SplitConformalType    = "timeseries_conformal"
	AdaptiveConformalType = "timeseries_conformal_adaptive"
)

// DetectOptions configure a conformal detector.
type DetectOptions struct {
	Type string // SplitConformalType or AdaptiveConformalType
	// FalseAlarm is the rate at which a normal point is flagged.
	FalseAlarm float64
	// Calibration is the share of scored points that calibrates: the first
	// ones for split conformal, the sliding window for adaptive.
	Calibration float64
}

func (o DetectOptions) withDefaults(typ string) (DetectOptions, error) {
	if o.Type == "" {
		o.Type = typ
	}
	if o.FalseAlarm == 0 {
		o.FalseAlarm = 0.05
	}
	if o.Calibration == 0 {
		o.Calibration = 0.2
	}
	if o.Type != SplitConformalType && o.Type != AdaptiveConformalType {
		return o, fmt.Errorf("unknown ad_model_type %q (types: %s, %s)", o.Type, SplitConformalType, AdaptiveConformalType)
	}
	return o, checkRates(o.FalseAlarm, o.Calibration)
}

// detect flags the points of r far from their one-step predictions pred.
func detect(r Regular, pred []float64, o DetectOptions) (Detection, error) {
	if o.Type == SplitConformalType {
		return SplitConformal(r.Values, pred, o.FalseAlarm, o.Calibration)
	}
	scored := 0
	for t := range pred {
		if !math.IsNaN(pred[t]) && !math.IsNaN(r.Values[t]) {
			scored++
		}
	}
	window := int(math.Round(o.Calibration * float64(scored)))
	if window < 20 {
		return Detection{}, fmt.Errorf("%d scored points give a calibration window of %d, want at least 20", scored, window)
	}
	return AdaptiveConformal(r.Values, pred, o.FalseAlarm, window)
}

type tsadIn struct {
	dataIn
	TargetColumns   []string `json:"target_columns" jsonschema:"columns to check, by full name or a unique ending"`
	ModelCheckpoint string   `json:"model_checkpoint,omitempty" jsonschema:"the forecasting model whose residuals are scored (default seasonal_naive_daily)"`
	ADModelType     string   `json:"ad_model_type,omitempty" jsonschema:"timeseries_conformal (one bound, calibrated first; default) or timeseries_conformal_adaptive (a bound that follows a sliding window)"`
	FalseAlarm      float64  `json:"false_alarm,omitempty" jsonschema:"the rate at which normal points are flagged (default 0.05)"`
	NCalibration    float64  `json:"n_calibration,omitempty" jsonschema:"share of the scored points that calibrates the bound (default 0.2)"`
}

type integratedIn struct {
	dataIn
	TargetColumns   []string `json:"target_columns,omitempty" jsonschema:"columns to check (default: every numeric column)"`
	ModelCheckpoint string   `json:"model_checkpoint,omitempty" jsonschema:"one model for every column; default: per column, the catalog model with the least one-step error"`
	ADModelType     string   `json:"ad_model_type,omitempty" jsonschema:"timeseries_conformal_adaptive (default) or timeseries_conformal"`
	FalseAlarm      float64  `json:"false_alarm,omitempty" jsonschema:"the rate at which normal points are flagged (default 0.05)"`
	NCalibration    float64  `json:"n_calibration,omitempty" jsonschema:"share of the scored points that calibrates the bound (default 0.2)"`
}

// ColumnDetection sums up one column.
type ColumnDetection struct {
	Column    string `json:"column"`
	Model     string `json:"model"`
	Scored    int    `json:"scored"` // points with a decided bound
	Anomalies int    `json:"anomalies"`
	Windows   int    `json:"anomaly_windows"` // runs of consecutive anomalies
}

// Window is a run of consecutive anomalous points.
type Window struct {
	Column string `json:"column"`
	Start  string `json:"start"`
	End    string `json:"end"` // the last anomalous point
	Points int    `json:"points"`
	// Peak is the largest |residual| / bound in the run.
	Peak float64 `json:"peak"`
}

// maxWindows bounds the windows returned inline; the CSV has every point.
const maxWindows = 10

type tsadOut struct {
	Status       string            `json:"status"`
	ADModelType  string            `json:"ad_model_type"`
	FalseAlarm   float64           `json:"false_alarm"`
	ResultsFile  string            `json:"results_file"`
	TotalRecords int               `json:"total_records"`
	AnomalyCount int               `json:"anomaly_count"`
	CSVColumns   []string          `json:"columns"`
	PerColumn    []ColumnDetection `json:"per_column"`
	// TopWindows are the longest runs of anomalies, then the strongest.
	TopWindows  []Window  `json:"top_windows"`
	DataQuality []Quality `json:"data_quality"`
	Message     string    `json:"message"`
}

var csvHeader = []string{"timestamp", "KPI", "value", "prediction", "residual", "threshold", "anomaly_label"}

func runTSAD(ctx context.Context, in tsadIn) (tsadOut, error) {
	o, err := DetectOptions{Type: in.ADModelType, FalseAlarm: in.FalseAlarm, Calibration: in.NCalibration}.withDefaults(SplitConformalType)
	if err != nil {
		return tsadOut{}, err
	}
	cols, err := load(ctx, in.DatasetPath, in.TimestampColumn, in.TargetColumns, false)
	if err != nil {
		return tsadOut{}, err
	}
	predict := func(c column) (string, []float64, error) { return predictWith(ctx, in.ModelCheckpoint, c) }
	return detectAll(ctx, cols, predict, o, "tsad", in)
}

func runIntegratedTSAD(ctx context.Context, in integratedIn) (tsadOut, error) {
	o, err := DetectOptions{Type: in.ADModelType, FalseAlarm: in.FalseAlarm, Calibration: in.NCalibration}.withDefaults(AdaptiveConformalType)
	if err != nil {
		return tsadOut{}, err
	}
	cols, err := load(ctx, in.DatasetPath, in.TimestampColumn, in.TargetColumns, true)
	if err != nil {
		return tsadOut{}, err
	}
	predict := func(c column) (string, []float64, error) {
		if in.ModelCheckpoint != "" {
			return predictWith(ctx, in.ModelCheckpoint, c)
		}
		m, pred, err := selectModel(c.reg, o.Calibration)
		return m.id, pred, err
	}
	return detectAll(ctx, cols, predict, o, "integrated-tsad", in)
}

// predictWith makes the one-step predictions of model id for a column.
func predictWith(ctx context.Context, id string, c column) (string, []float64, error) {
	m, err := resolve(id, c.name, c.reg.Step, openIn(ctx))
	if err != nil {
		return "", nil, err
	}
	return m.id, oneStep(m.model, c.reg), nil
}

// selectModel picks the catalog model with the least one-step absolute
// error over the first calibration share of the points every candidate
// predicts; candidates that cannot run on r's step or length drop out. It
// returns the winner's predictions too.
func selectModel(r Regular, calibration float64) (resolved, []float64, error) {
	var cands []resolved
	var preds [][]float64
	for _, c := range Catalog {
		m, err := resolve(c.ModelID, "", r.Step, nil)
		if err != nil {
			continue
		}
		p := oneStep(m.model, r)
		n := 0
		for t := range p {
			if !math.IsNaN(p[t]) && !math.IsNaN(r.Values[t]) {
				n++
			}
		}
		if n >= 20 {
			cands, preds = append(cands, m), append(preds, p)
		}
	}
	if len(cands) == 0 {
		return resolved{}, nil, fmt.Errorf("no model can forecast a series of %d points at a %s step", len(r.Values), r.Step)
	}
	var common []int
	for t, y := range r.Values {
		ok := !math.IsNaN(y)
		for _, p := range preds {
			ok = ok && !math.IsNaN(p[t])
		}
		if ok {
			common = append(common, t)
		}
	}
	if n := int(math.Round(calibration * float64(len(common)))); n >= 20 {
		common = common[:n]
	}
	best, bestErr := 0, math.Inf(1)
	for i, p := range preds {
		e := 0.0
		for _, t := range common {
			e += math.Abs(r.Values[t] - p[t])
		}
		if e < bestErr {
			best, bestErr = i, e
		}
	}
	return cands[best], preds[best], nil
}

// detectAll detects on every column with the predictions of predict, which
// also names the model, and writes the CSV.
func detectAll(ctx context.Context, cols []column, predict func(column) (string, []float64, error), o DetectOptions, prefix string, in any) (tsadOut, error) {
	out := tsadOut{Status: "success", ADModelType: o.Type, FalseAlarm: o.FalseAlarm, CSVColumns: csvHeader}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(csvHeader)
	var windows []Window
	num := func(x float64) string {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(round(x), 'f', -1, 64)
	}
	for _, c := range cols {
		model, pred, err := predict(c)
		if err != nil {
			return tsadOut{}, err
		}
		d, err := detect(c.reg, pred, o)
		if err != nil {
			return tsadOut{}, fmt.Errorf("%s with %s: %w", c.name, model, err)
		}
		cd := ColumnDetection{Column: c.name, Model: model}
		run := -1 // index in windows of the run in progress
		for t, y := range c.reg.Values {
			if math.IsNaN(y) {
				run = -1
				continue
			}
			label := "0"
			if !math.IsNaN(d.Threshold[t]) {
				cd.Scored++
			}
			if d.Anomaly[t] {
				label = "1"
				cd.Anomalies++
				peak := round(math.Abs(d.Residual[t]) / math.Max(d.Threshold[t], 1e-12))
				ts := timeString(c.reg.Time(t))
				if run < 0 {
					windows = append(windows, Window{Column: c.name, Start: ts})
					run = len(windows) - 1
					cd.Windows++
				}
				win := &windows[run]
				win.End, win.Points, win.Peak = ts, win.Points+1, math.Max(win.Peak, peak)
			} else {
				run = -1
			}
			out.TotalRecords++
			_ = w.Write([]string{timeString(c.reg.Time(t)), c.name, num(y), num(d.Pred[t]), num(d.Residual[t]), num(d.Threshold[t]), label})
		}
		out.AnomalyCount += cd.Anomalies
		out.PerColumn = append(out.PerColumn, cd)
		out.DataQuality = append(out.DataQuality, quality(c))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return tsadOut{}, err
	}
	sort.SliceStable(windows, func(i, j int) bool {
		if windows[i].Points != windows[j].Points {
			return windows[i].Points > windows[j].Points
		}
		return windows[i].Peak > windows[j].Peak
	})
	out.TopWindows = windows[:min(len(windows), maxWindows)]
	var err error
	if out.ResultsFile, err = tools.EnvFrom(ctx).WriteFile(fileName(prefix, ".csv", fmt.Sprintf("%+v", in)), buf.Bytes()); err != nil {
		return tsadOut{}, err
	}
	var names []string
	for _, c := range out.PerColumn {
		names = append(names, fmt.Sprintf("%s: %d of %d", c.Column, c.Anomalies, c.Scored))
	}
	out.Message = fmt.Sprintf("%d anomalies at false-alarm rate %g (%s); every point with its bound in %s.",
		out.AnomalyCount, o.FalseAlarm, strings.Join(names, "; "), out.ResultsFile)
	return out, nil
}
