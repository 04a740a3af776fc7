// Package tsfm provides the time-series agent's tools and the forecasting
// models behind them.
package tsfm

import (
	"context"

	"github.com/assetops/assetops/agents/tools"
)

// ModelCard describes a forecasting model this project implements.
type ModelCard struct {
	ModelID         string `json:"model_id"`
	Description     string `json:"model_description"`
	ContextLength   int    `json:"context_length"`
	ForecastHorizon int    `json:"forecast_horizon"`
	Frequency       string `json:"frequency"`
	SeasonLength    int    `json:"season_length"`
}

// Catalog lists only models with an implementation in this package; each
// card's id is accepted by Forecaster.
var Catalog = []ModelCard{
	{
		ModelID:         "seasonal_naive_daily",
		Description:     "Seasonal naive forecast: repeats the last day of 15-minute samples",
		ContextLength:   96,
		ForecastHorizon: 96,
		Frequency:       "15min",
		SeasonLength:    96,
	},
	{
		ModelID:         "seasonal_naive_weekly",
		Description:     "Seasonal naive forecast: repeats the same time one week earlier, for loads with weekday/weekend patterns",
		ContextLength:   672,
		ForecastHorizon: 96,
		Frequency:       "15min",
		SeasonLength:    672,
	},
}

// Tools returns the TSFM tools.
func Tools() []tools.Tool {
	return []tools.Tool{
		tools.New("tsfm.get_tsfm_models", "List the time-series forecasting models available, with context lengths and horizons.", getModels),
	}
}

type modelsIn struct{}

type modelsOut struct {
	Models []ModelCard `json:"models"`
}

func getModels(context.Context, modelsIn) (modelsOut, error) {
	return modelsOut{Models: Catalog}, nil
}
