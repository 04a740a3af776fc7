package tsfm

import (
	"fmt"
	"math"
	"sort"
)

// quantile is the conformal threshold of scores at false-alarm rate alpha:
// the ⌈(n+1)(1−alpha)⌉-th smallest score, +Inf when n is too small for it.
func quantile(scores []float64, alpha float64) float64 {
	n := len(scores)
	k := int(math.Ceil(float64(n+1) * (1 - alpha)))
	if n == 0 || k > n {
		return math.Inf(1)
	}
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	return s[max(k, 1)-1]
}

// Detection is what a detector made of a series.
type Detection struct {
	Pred      []float64 // one-step prediction, NaN where none
	Residual  []float64 // y − prediction
	Threshold []float64 // the bound on |residual| at each point, NaN where undecided
	Anomaly   []bool
}

// SplitConformal calibrates one threshold on the first calibration share of
// the scored points and flags the later points whose |residual| exceeds it:
// under exchangeable residuals, a normal point is flagged with probability
// at most falseAlarm.
func SplitConformal(y, pred []float64, falseAlarm, calibration float64) (Detection, error) {
	if err := checkRates(falseAlarm, calibration); err != nil {
		return Detection{}, err
	}
	d := newDetection(y, pred)
	var valid []int
	for t := range y {
		if !math.IsNaN(d.Residual[t]) {
			valid = append(valid, t)
		}
	}
	nCal := int(math.Round(calibration * float64(len(valid))))
	if nCal < 10 {
		return Detection{}, fmt.Errorf("%d calibration points (%.0f%% of %d scored), want at least 10", nCal, 100*calibration, len(valid))
	}
	scores := make([]float64, nCal)
	for i, t := range valid[:nCal] {
		scores[i] = math.Abs(d.Residual[t])
	}
	q := quantile(scores, falseAlarm)
	for _, t := range valid[nCal:] {
		d.Threshold[t] = q
		d.Anomaly[t] = math.Abs(d.Residual[t]) > q
	}
	return d, nil
}

// AdaptiveConformal recalibrates at every point on the window of scores
// just before it, so that the threshold follows seasons and regimes.
// Points with fewer than window/4 scores behind them are left undecided.
func AdaptiveConformal(y, pred []float64, falseAlarm float64, window int) (Detection, error) {
	if err := checkRates(falseAlarm, 0.5); err != nil {
		return Detection{}, err
	}
	if window < 20 {
		return Detection{}, fmt.Errorf("calibration window %d too short, want at least 20", window)
	}
	d := newDetection(y, pred)
	// The window's scores, in arrival order and sorted.
	var fifo, sorted []float64
	for t := range y {
		r := d.Residual[t]
		if math.IsNaN(r) {
			continue
		}
		if n := len(sorted); n >= window/4 {
			q := math.Inf(1)
			if k := int(math.Ceil(float64(n+1) * (1 - falseAlarm))); k <= n {
				q = sorted[max(k, 1)-1]
			}
			d.Threshold[t] = q
			d.Anomaly[t] = math.Abs(r) > q
		}
		score := math.Abs(r)
		i := sort.SearchFloat64s(sorted, score)
		sorted = append(sorted, 0)
		copy(sorted[i+1:], sorted[i:])
		sorted[i] = score
		fifo = append(fifo, score)
		if len(fifo) > window {
			old := fifo[0]
			fifo = fifo[1:]
			j := sort.SearchFloat64s(sorted, old)
			sorted = append(sorted[:j], sorted[j+1:]...)
		}
	}
	return d, nil
}

func newDetection(y, pred []float64) Detection {
	d := Detection{Pred: pred, Residual: make([]float64, len(y)), Threshold: make([]float64, len(y)), Anomaly: make([]bool, len(y))}
	for t := range y {
		d.Residual[t] = y[t] - pred[t] // NaN when either is
		d.Threshold[t] = math.NaN()
	}
	return d
}

func checkRates(falseAlarm, calibration float64) error {
	if falseAlarm <= 0 || falseAlarm >= 1 {
		return fmt.Errorf("false_alarm %g must be between 0 and 1", falseAlarm)
	}
	if calibration <= 0 || calibration >= 1 {
		return fmt.Errorf("n_calibration %g must be a share between 0 and 1", calibration)
	}
	return nil
}
