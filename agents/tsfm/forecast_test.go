package tsfm

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSeasonalNaive(t *testing.T) {
	got, err := SeasonalNaive([]float64{9, 1, 2, 3}, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float64{1, 2, 3, 1, 2}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := SeasonalNaive([]float64{1}, 3, 1); err == nil || !strings.Contains(err.Error(), "one season") {
		t.Errorf("short history: err = %v", err)
	}
	if _, err := SeasonalNaive([]float64{1}, 0, 1); err == nil {
		t.Error("zero season accepted")
	}
	one := seasonalNaive{2}.OneStep([]float64{1, 2, 3, 4})
	if !math.IsNaN(one[0]) || !math.IsNaN(one[1]) || one[2] != 1 || one[3] != 2 {
		t.Errorf("one-step = %v, want NaN NaN 1 2", one)
	}
}

// seasonal is a daily pattern at 15-minute steps with a trend and noise.
func seasonal(n int, trend, noise float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	y := make([]float64, n)
	for t := range y {
		y[t] = 100 + trend*float64(t) + 30*math.Sin(2*math.Pi*float64(t)/96) + noise*rng.NormFloat64()
	}
	return y
}

// Holt-Winters follows a trending season that seasonal naive lags behind.
func TestHoltWintersBeatsNaiveOnTrend(t *testing.T) {
	y := seasonal(96*10, 0.05, 0.5, 1)
	train, test := y[:96*9], y[96*9:]
	hw := HoltWinters{Season: 96, Alpha: 0.3, Beta: 0.01, Gamma: 0.2}
	fhw, err := hw.Forecast(train, 96)
	if err != nil {
		t.Fatal(err)
	}
	fsn, err := SeasonalNaive(train, 96, 96)
	if err != nil {
		t.Fatal(err)
	}
	mhw, _ := errorsOf(test, fhw)
	msn, _ := errorsOf(test, fsn)
	if mhw >= msn {
		t.Errorf("Holt-Winters MAE %.3f not below seasonal naive %.3f on a trending series", mhw, msn)
	}
	if _, err := hw.Forecast(y[:150], 4); err == nil || !strings.Contains(err.Error(), "two seasons") {
		t.Errorf("short history: %v", err)
	}
}

// Forecasts stay within the history's range.
func TestHoltWintersClampsToHistory(t *testing.T) {
	y := seasonal(96*3, 1, 0, 1) // a steep trend the forecast would carry past the maximum
	f, err := HoltWinters{Season: 96, Alpha: 0.5, Beta: 0.5, Gamma: 0.2}.Forecast(y, 200)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range y {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	for h, v := range f {
		if v < lo || v > hi {
			t.Fatalf("step %d: %g outside [%g, %g]", h, v, lo, hi)
		}
	}
}

// Fit finds smoothing at least as good as the defaults on the data it fits.
func TestHoltWintersFit(t *testing.T) {
	y := seasonal(96*6, 0.02, 2, 2)
	base := HoltWinters{Season: 96, Alpha: 0.9, Beta: 0.05, Gamma: 0.4}
	fitted, rmse, err := base.Fit(y)
	if err != nil {
		t.Fatal(err)
	}
	sse := func(m HoltWinters) float64 {
		p, s := m.OneStep(y), 0.0
		for t := 2 * 96; t < len(y); t++ {
			s += (y[t] - p[t]) * (y[t] - p[t])
		}
		return s
	}
	if sse(fitted) > sse(base) {
		t.Errorf("fitted %+v has SSE %.1f above the start %.1f", fitted, sse(fitted), sse(base))
	}
	if rmse <= 0 || rmse > 5 {
		t.Errorf("fit RMSE %.3f for noise of σ=2", rmse)
	}
	if _, _, err := base.Fit(y[:200]); err == nil {
		t.Error("fit on less than three seasons accepted")
	}
}

// Every catalog model resolves and forecasts its horizon from its context,
// at the catalog's step and scaled to an hourly one.
func TestCatalogIsImplemented(t *testing.T) {
	for _, c := range Catalog {
		for _, step := range []time.Duration{15 * time.Minute, time.Hour} {
			m, err := resolve(c.ModelID, "x", step, nil)
			if err != nil {
				t.Fatalf("%s at %s: %v", c.ModelID, step, err)
			}
			scale := int(step / catalogStep)
			if m.context*scale != c.ContextLength || m.season*scale != c.SeasonLength || m.horizon*scale != c.ForecastHorizon {
				t.Errorf("%s at %s: context %d season %d horizon %d", c.ModelID, step, m.context, m.season, m.horizon)
			}
			out, err := m.model.Forecast(seasonal(m.context, 0, 1, 3), m.horizon)
			if err != nil || len(out) != m.horizon {
				t.Errorf("%s at %s: %d points, %v; want %d", c.ModelID, step, len(out), err, m.horizon)
			}
		}
	}
	for _, tt := range []struct {
		id   string
		step time.Duration
		want string
	}{
		{"ttm_512_96", 15 * time.Minute, `unknown model "ttm_512_96"`},
		{"holt_winters_daily", 7 * time.Minute, "does not divide"},
		{"tuned.json", 15 * time.Minute, "no such file"},
	} {
		open := func(string) ([]byte, error) { return nil, errNoFile }
		if _, err := resolve(tt.id, "x", tt.step, open); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s at %s: err = %v, want %q", tt.id, tt.step, err, tt.want)
		}
	}
}

var errNoFile = errors.New("no such file")

// A gap restarts the model rather than spreading NaN to the end.
func TestOneStepRestartsAfterGap(t *testing.T) {
	y := seasonal(96*6, 0, 0.1, 4)
	for i := 96 * 3; i < 96*3+20; i++ {
		y[i] = math.NaN()
	}
	r := Regular{Start: time.Unix(0, 0), Step: 15 * time.Minute, Values: y}
	pred := oneStep(HoltWinters{Season: 96, Alpha: 0.3, Beta: 0.01, Gamma: 0.2}, r)
	if math.IsNaN(pred[len(pred)-1]) {
		t.Error("the last point has no prediction: the gap poisoned the filter")
	}
	if !math.IsNaN(pred[96*3+20]) {
		t.Error("the point right after the gap was predicted without a warm-up")
	}
}
