package tsfm

import "fmt"

// SeasonalNaive forecasts horizon steps by repeating the value one season
// earlier: y[t+h] = y[t+h-season·k] for the smallest k that lands in history.
func SeasonalNaive(history []float64, season, horizon int) ([]float64, error) {
	if season <= 0 || horizon <= 0 {
		return nil, fmt.Errorf("season %d and horizon %d must be positive", season, horizon)
	}
	if len(history) < season {
		return nil, fmt.Errorf("need at least one season of history (%d points), have %d", season, len(history))
	}
	out := make([]float64, horizon)
	n := len(history)
	for h := range out {
		// Position h steps after the end, folded back into the last season.
		out[h] = history[n-season+h%season]
	}
	return out, nil
}

// Forecaster returns the forecasting function of a catalog model.
func Forecaster(modelID string) (func(history []float64) ([]float64, error), error) {
	for _, c := range Catalog {
		if c.ModelID != modelID {
			continue
		}
		return func(h []float64) ([]float64, error) { return SeasonalNaive(h, c.SeasonLength, c.ForecastHorizon) }, nil
	}
	return nil, fmt.Errorf("unknown model %q", modelID)
}
