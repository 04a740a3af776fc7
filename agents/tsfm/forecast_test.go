package tsfm

import (
	"strings"
	"testing"

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
}

// Every model in the catalog has an implementation with its context and horizon.
func TestCatalogIsImplemented(t *testing.T) {
	for _, c := range Catalog {
		f, err := Forecaster(c.ModelID)
		if err != nil {
			t.Fatalf("%s: %v", c.ModelID, err)
		}
		hist := make([]float64, c.ContextLength)
		for i := range hist {
			hist[i] = float64(i % c.SeasonLength)
		}
		out, err := f(hist)
		if err != nil || len(out) != c.ForecastHorizon {
			t.Errorf("%s: %d points, %v; want %d", c.ModelID, len(out), err, c.ForecastHorizon)
		}
		if _, err := f(hist[:c.ContextLength-1]); c.ContextLength == c.SeasonLength && err == nil {
			t.Errorf("%s accepted less than its context", c.ModelID)
		}
	}
	if _, err := Forecaster("ttm_512_96"); err == nil {
		t.Error("a model we do not have was found")
	}
}
