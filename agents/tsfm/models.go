package tsfm

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// ModelCard describes a forecasting model this project implements.
// Lengths count 15-minute steps, the dataset's frequency; on data with
// another step they scale with the season (a daily season is 24 hourly
// steps).
type ModelCard struct {
	ModelID         string `json:"model_id"`
	Checkpoint      string `json:"model_checkpoint"`
	Description     string `json:"model_description"`
	ContextLength   int    `json:"context_length"`
	ForecastHorizon int    `json:"forecast_horizon"`
	Frequency       string `json:"frequency"`
	SeasonLength    int    `json:"season_length"`
	// Tunable models have parameters run_tsfm_finetuning fits.
	Tunable bool `json:"tunable"`

	family string
	params Smoothing // Holt-Winters defaults
}

// catalogStep is the step the catalog's lengths count.
const catalogStep = 15 * time.Minute

// Catalog lists only models with an implementation in this package.
var Catalog = []ModelCard{
	{
		ModelID: "seasonal_naive_daily", Checkpoint: "seasonal_naive_daily",
		Description:   "Seasonal naive: repeats the last day; the baseline every other model must beat",
		ContextLength: 96, ForecastHorizon: 96, Frequency: "15min", SeasonLength: 96, family: "seasonal_naive",
	},
	{
		ModelID: "seasonal_naive_weekly", Checkpoint: "seasonal_naive_weekly",
		Description:   "Seasonal naive: repeats the same time one week earlier, for loads with weekday/weekend patterns",
		ContextLength: 672, ForecastHorizon: 96, Frequency: "15min", SeasonLength: 672, family: "seasonal_naive",
	},
	{
		ModelID: "holt_winters_daily", Checkpoint: "holt_winters_daily",
		Description:   "Additive Holt-Winters (level, trend, daily season) over the last week; run_tsfm_finetuning fits its smoothing",
		ContextLength: 672, ForecastHorizon: 96, Frequency: "15min", SeasonLength: 96, Tunable: true, family: "holt_winters",
		params: Smoothing{Alpha: 0.3, Beta: 0.01, Gamma: 0.2},
	},
	{
		ModelID: "holt_winters_weekly", Checkpoint: "holt_winters_weekly",
		Description:   "Additive Holt-Winters with a weekly season over the last three weeks; run_tsfm_finetuning fits its smoothing",
		ContextLength: 2016, ForecastHorizon: 96, Frequency: "15min", SeasonLength: 672, Tunable: true, family: "holt_winters",
		params: Smoothing{Alpha: 0.3, Beta: 0.01, Gamma: 0.2},
	},
}

// DefaultModel is the model forecasting and detection use unless told.
const DefaultModel = "seasonal_naive_daily"

func card(id string) (ModelCard, bool) {
	for _, c := range Catalog {
		if strings.EqualFold(c.ModelID, strings.TrimSpace(id)) {
			return c, true
		}
	}
	return ModelCard{}, false
}

func catalogIDs() string {
	var ids []string
	for _, c := range Catalog {
		ids = append(ids, c.ModelID)
	}
	return strings.Join(ids, ", ")
}

// TunedModel is what run_tsfm_finetuning saves: a catalog model with
// smoothing fitted per target column.
type TunedModel struct {
	ModelID     string               `json:"model_id"`
	BaseModel   string               `json:"base_model"`
	StepSeconds int                  `json:"step_seconds"`
	DatasetPath string               `json:"dataset_path"`
	TrainStart  string               `json:"train_start"`
	TrainEnd    string               `json:"train_end"`
	Params      map[string]Smoothing `json:"params"` // by column
}

// resolved is a model ready for one column of data at one step.
type resolved struct {
	id                       string // as given back to the agent
	card                     ModelCard
	season, context, horizon int // in data steps
	model                    Model
}

// steps converts a length in catalog steps to steps of the data.
func steps(n int, step time.Duration, what string) (int, error) {
	d := time.Duration(n) * catalogStep
	if step <= 0 || d%step != 0 {
		return 0, fmt.Errorf("the data's step of %s does not divide the model's %s of %s", step, what, d)
	}
	return int(d / step), nil
}

// resolve finds model checkpoint id — a catalog id or a file saved by
// run_tsfm_finetuning — for column at step. open reads the file.
func resolve(id, column string, step time.Duration, open func(string) ([]byte, error)) (resolved, error) {
	if id == "" {
		id = DefaultModel
	}
	c, ok := card(id)
	var tuned *Smoothing
	if !ok {
		if !strings.HasSuffix(strings.ToLower(id), ".json") {
			return resolved{}, fmt.Errorf("unknown model %q (models: %s, or a file saved by run_tsfm_finetuning)", id, catalogIDs())
		}
		b, err := open(id)
		if err != nil {
			return resolved{}, err
		}
		var tm TunedModel
		if err := json.Unmarshal(b, &tm); err != nil || tm.BaseModel == "" {
			return resolved{}, fmt.Errorf("%s is not a model saved by run_tsfm_finetuning", id)
		}
		if c, ok = card(tm.BaseModel); !ok || c.family != "holt_winters" {
			return resolved{}, fmt.Errorf("%s: base model %q is not tunable", id, tm.BaseModel)
		}
		if time.Duration(tm.StepSeconds)*time.Second != step {
			return resolved{}, fmt.Errorf("%s was fitted on %ds steps, the data has %s", id, tm.StepSeconds, step)
		}
		p, ok := tm.Params[column]
		if !ok {
			return resolved{}, fmt.Errorf("%s was fitted for %s, not %q", id, strings.Join(slices.Sorted(maps.Keys(tm.Params)), ", "), column)
		}
		tuned = &p
	}
	r := resolved{id: id, card: c}
	var err error
	if r.season, err = steps(c.SeasonLength, step, "season"); err != nil {
		return resolved{}, fmt.Errorf("model %s: %w", c.ModelID, err)
	}
	if r.context, err = steps(c.ContextLength, step, "context"); err != nil {
		return resolved{}, fmt.Errorf("model %s: %w", c.ModelID, err)
	}
	if r.horizon, err = steps(c.ForecastHorizon, step, "horizon"); err != nil {
		return resolved{}, fmt.Errorf("model %s: %w", c.ModelID, err)
	}
	switch c.family {
	case "seasonal_naive":
		r.model = seasonalNaive{r.season}
	default:
		p := c.params
		if tuned != nil {
			p = *tuned
		}
		r.model = HoltWinters{Season: r.season, Alpha: p.Alpha, Beta: p.Beta, Gamma: p.Gamma}
	}
	return r, nil
}

// oneStep predicts each point from the points before it within its
// continuous stretch, so that a gap restarts the model instead of poisoning
// it with NaN.
func oneStep(m Model, r Regular) []float64 {
	pred := nanSlice(len(r.Values))
	for _, seg := range r.segments() {
		copy(pred[seg[0]:seg[1]], m.OneStep(r.Values[seg[0]:seg[1]]))
	}
	return pred
}

// round keeps four decimals, enough for sensor units, so results read well.
func round(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	return math.Round(x*1e4) / 1e4
}
