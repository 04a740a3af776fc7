package tsfm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// On exchangeable residuals both detectors flag normal points at about the
// false-alarm rate, and a planted excursion is flagged.
func TestConformalFalseAlarmRate(t *testing.T) {
	const n = 20000
	rng := rand.New(rand.NewPCG(7, 7))
	y, pred := make([]float64, n), make([]float64, n)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	y[n-100] = 10 // a spike far outside the noise
	for _, alpha := range []float64{0.05, 0.01} {
		split, err := SplitConformal(y, pred, alpha, 0.2)
		if err != nil {
			t.Fatal(err)
		}
		adaptive, err := AdaptiveConformal(y, pred, alpha, 2000)
		if err != nil {
			t.Fatal(err)
		}
		for name, d := range map[string]Detection{"split": split, "adaptive": adaptive} {
			flagged, scored := 0, 0
			for i := range y {
				if !math.IsNaN(d.Threshold[i]) && i != n-100 {
					scored++
					if d.Anomaly[i] {
						flagged++
					}
				}
			}
			rate := float64(flagged) / float64(scored)
			// The binomial spread at these n is well under a fifth of alpha.
			if math.Abs(rate-alpha) > 0.2*alpha {
				t.Errorf("%s α=%g: false-alarm rate %.4f over %d points", name, alpha, rate, scored)
			}
			if !d.Anomaly[n-100] {
				t.Errorf("%s α=%g: the spike was not flagged", name, alpha)
			}
		}
	}
}

func TestConformalErrors(t *testing.T) {
	y := make([]float64, 30)
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"false alarm 0", func() error { _, err := SplitConformal(y, y, 0, 0.2); return err }(), "false_alarm"},
		{"false alarm 1", func() error { _, err := AdaptiveConformal(y, y, 1, 20); return err }(), "false_alarm"},
		{"calibration share", func() error { _, err := SplitConformal(y, y, 0.05, 1.5); return err }(), "n_calibration"},
		{"too few to calibrate", func() error { _, err := SplitConformal(y, y, 0.05, 0.2); return err }(), "calibration points"},
		{"short window", func() error { _, err := AdaptiveConformal(y, y, 0.05, 10); return err }(), "too short"},
	} {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, tt.err, tt.want)
		}
	}
}

// With too few calibration scores for the rate, the bound is infinite:
// nothing is flagged rather than everything.
func TestQuantileTooFewScores(t *testing.T) {
	if q := quantile([]float64{1, 2, 3}, 0.05); !math.IsInf(q, 1) {
		t.Errorf("quantile of 3 scores at 5%% = %g, want +Inf", q)
	}
	if q := quantile([]float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 0.05); q != 19 {
		t.Errorf("quantile = %g, want the largest of 19", q)
	}
}
