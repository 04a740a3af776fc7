package tsfm

import (
	"fmt"
	"math"
)

// Model forecasts a regular series (no missing values).
type Model interface {
	// Forecast continues history by horizon steps.
	Forecast(history []float64, horizon int) ([]float64, error)
	// OneStep predicts every y[t] from y[:t]; NaN where it cannot yet.
	OneStep(y []float64) []float64
}

// SeasonalNaive forecasts horizon steps by repeating the value one season
// earlier: y[t+h] = y[t+h-season·k] for the smallest k that lands in history.
func SeasonalNaive(history []float64, season, horizon int) ([]float64, error) {
	return seasonalNaive{season}.Forecast(history, horizon)
}

type seasonalNaive struct{ season int }

func (m seasonalNaive) Forecast(history []float64, horizon int) ([]float64, error) {
	if m.season <= 0 || horizon <= 0 {
		return nil, fmt.Errorf("season %d and horizon %d must be positive", m.season, horizon)
	}
	if len(history) < m.season {
		return nil, fmt.Errorf("need at least one season of history (%d points), have %d", m.season, len(history))
	}
	out := make([]float64, horizon)
	n := len(history)
	for h := range out {
		out[h] = history[n-m.season+h%m.season]
	}
	return out, nil
}

func (m seasonalNaive) OneStep(y []float64) []float64 {
	out := make([]float64, len(y))
	for t := range y {
		out[t] = math.NaN()
		if t >= m.season {
			out[t] = y[t-m.season]
		}
	}
	return out
}

// HoltWinters is additive triple exponential smoothing: a level, a trend and
// a season of Season steps, smoothed by Alpha, Beta and Gamma.
type HoltWinters struct {
	Season             int     `json:"season"`
	Alpha, Beta, Gamma float64 `json:"-"`
}

// Smoothing is the constants of Holt-Winters, as fitted and saved.
type Smoothing struct {
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
	Gamma float64 `json:"gamma"`
}

// filter runs the smoothing over y, returning one-step predictions and the
// final state. It starts from the first two seasons.
func (m HoltWinters) filter(y []float64) (pred []float64, level, trend float64, season []float64, err error) {
	s := m.Season
	if s <= 0 {
		return nil, 0, 0, nil, fmt.Errorf("season %d must be positive", s)
	}
	if len(y) < 2*s {
		return nil, 0, 0, nil, fmt.Errorf("need at least two seasons of history (%d points), have %d", 2*s, len(y))
	}
	mean := func(xs []float64) float64 {
		t := 0.0
		for _, x := range xs {
			t += x
		}
		return t / float64(len(xs))
	}
	level = mean(y[:s])
	trend = (mean(y[s:2*s]) - level) / float64(s)
	season = make([]float64, s)
	for i := range season {
		season[i] = y[i] - level
	}
	pred = make([]float64, len(y))
	for t := range y {
		if t < s {
			pred[t] = math.NaN()
			continue
		}
		k := t % s
		pred[t] = level + trend + season[k]
		prev := level
		level = m.Alpha*(y[t]-season[k]) + (1-m.Alpha)*(level+trend)
		trend = m.Beta*(level-prev) + (1-m.Beta)*trend
		season[k] = m.Gamma*(y[t]-level) + (1-m.Gamma)*season[k]
	}
	return pred, level, trend, season, nil
}

// Forecast continues history by horizon steps, kept within the range the
// history spans: sensors are bounded (a flow is never negative), and a
// trend extrapolated over a day would otherwise cross those bounds.
func (m HoltWinters) Forecast(history []float64, horizon int) ([]float64, error) {
	if horizon <= 0 {
		return nil, fmt.Errorf("horizon %d must be positive", horizon)
	}
	_, level, trend, season, err := m.filter(history)
	if err != nil {
		return nil, err
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range history {
		lo, hi = math.Min(lo, y), math.Max(hi, y)
	}
	n := len(history)
	out := make([]float64, horizon)
	for h := range out {
		out[h] = math.Min(hi, math.Max(lo, level+float64(h+1)*trend+season[(n+h)%m.Season]))
	}
	return out, nil
}

// OneStep predicts every y[t] from y[:t].
func (m HoltWinters) OneStep(y []float64) []float64 {
	pred, _, _, _, err := m.filter(y)
	if err != nil {
		out := make([]float64, len(y))
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	return pred
}

// Fit chooses Alpha, Beta and Gamma on a grid by the one-step squared error
// over y, after the first two seasons.
func (m HoltWinters) Fit(y []float64) (HoltWinters, float64, error) {
	if len(y) < 3*m.Season {
		return m, 0, fmt.Errorf("fitting needs three seasons (%d points), have %d", 3*m.Season, len(y))
	}
	best, bestErr := m, math.Inf(1)
	for _, a := range []float64{0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9} {
		for _, b := range []float64{0, 0.001, 0.01, 0.05} {
			for _, g := range []float64{0.05, 0.1, 0.2, 0.4} {
				c := HoltWinters{Season: m.Season, Alpha: a, Beta: b, Gamma: g}
				pred := c.OneStep(y)
				sse := 0.0
				for t := 2 * m.Season; t < len(y); t++ {
					d := y[t] - pred[t]
					sse += d * d
				}
				if sse < bestErr {
					best, bestErr = c, sse
				}
			}
		}
	}
	return best, math.Sqrt(bestErr / float64(len(y)-2*m.Season)), nil
}
