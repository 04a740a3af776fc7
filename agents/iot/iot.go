// Package iot provides the IoT agent's tools: sites, assets, sensors and
// telemetry history.
package iot

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
)

// Store is the data the IoT tools read.
type Store interface {
	Sites(ctx context.Context) ([]fixtures.Site, error)
	Assets(ctx context.Context) ([]fixtures.Asset, error)
	// History returns up to limit records of an asset in [start, end) and
	// how many the window holds.
	History(ctx context.Context, assetID string, start, end time.Time, limit int) (*fixtures.Series, int, error)
}

// Limits of an inline history page.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// Tools returns the IoT tools over a store.
func Tools(s Store) []tools.Tool {
	t := &iotTools{store: s}
	return []tools.Tool{
		tools.New("iot.sites", "List the IoT sites.", t.sites),
		tools.New("iot.assets", "List the monitored assets of a site.", t.assets),
		tools.New("iot.sensors", "List the sensors of an asset at a site.", t.sensors),
		tools.New("iot.history", "Telemetry of an asset in the half-open window [start, end), oldest first, "+
			"optionally only some sensors. Times are site-local ISO 8601 (2020-06-01T06:00:00 or 2020-06-01).", t.history),
	}
}

type iotTools struct{ store Store }

type sitesIn struct{}

type sitesOut struct {
	Sites []string `json:"sites"`
}

func (t *iotTools) sites(ctx context.Context, _ sitesIn) (sitesOut, error) {
	sites, err := t.store.Sites(ctx)
	if err != nil {
		return sitesOut{}, err
	}
	out := sitesOut{Sites: []string{}}
	for _, s := range sites {
		out.Sites = append(out.Sites, s.Name)
	}
	sort.Strings(out.Sites)
	return out, nil
}

type assetsIn struct {
	SiteName string `json:"site_name" jsonschema:"site name, e.g. MAIN"`
}

type assetSummary struct {
	AssetID     string `json:"asset_id"`
	AssetClass  string `json:"asset_class"`
	EquipmentID string `json:"equipment_id"`
	Description string `json:"description"`
	Sensors     int    `json:"total_sensors"`
}

type assetsOut struct {
	SiteName    string         `json:"site_name"`
	TotalAssets int            `json:"total_assets"`
	Assets      []assetSummary `json:"assets"`
}

func (t *iotTools) assets(ctx context.Context, in assetsIn) (assetsOut, error) {
	site, err := t.site(ctx, in.SiteName)
	if err != nil {
		return assetsOut{}, err
	}
	all, err := t.store.Assets(ctx)
	if err != nil {
		return assetsOut{}, err
	}
	out := assetsOut{SiteName: site, Assets: []assetSummary{}}
	for _, a := range all {
		if a.Site == site {
			out.Assets = append(out.Assets, assetSummary{a.ID, a.Class, a.EquipmentID, a.Description, len(a.Sensors)})
		}
	}
	out.TotalAssets = len(out.Assets)
	return out, nil
}

type sensorsIn struct {
	SiteName string `json:"site_name" jsonschema:"site name, e.g. MAIN"`
	AssetID  string `json:"asset_id" jsonschema:"asset name, e.g. Chiller 6"`
}

type sensorsOut struct {
	SiteName     string   `json:"site_name"`
	AssetID      string   `json:"asset_id"`
	TotalSensors int      `json:"total_sensors"`
	Sensors      []string `json:"sensors"`
}

func (t *iotTools) sensors(ctx context.Context, in sensorsIn) (sensorsOut, error) {
	a, err := t.asset(ctx, in.SiteName, in.AssetID)
	if err != nil {
		return sensorsOut{}, err
	}
	return sensorsOut{SiteName: a.Site, AssetID: a.ID, TotalSensors: len(a.Sensors), Sensors: a.Sensors}, nil
}

type historyIn struct {
	SiteName string   `json:"site_name" jsonschema:"site name, e.g. MAIN"`
	AssetID  string   `json:"asset_id" jsonschema:"asset name, e.g. Chiller 6"`
	Start    string   `json:"start" jsonschema:"inclusive start, site-local ISO 8601"`
	End      string   `json:"end" jsonschema:"exclusive end, site-local ISO 8601"`
	Sensors  []string `json:"sensors,omitempty" jsonschema:"only these sensors (full or short names); all when empty"`
	Limit    int      `json:"limit,omitempty" jsonschema:"most observations to return (default 100, at most 1000)"`
}

type observation struct {
	Timestamp string             `json:"timestamp"`
	Values    map[string]float64 `json:"values"`
}

type historyOut struct {
	SiteName          string        `json:"site_name"`
	AssetID           string        `json:"asset_id"`
	Start             string        `json:"start"`
	End               string        `json:"end"`
	Sensors           []string      `json:"sensors"`
	TotalObservations int           `json:"total_observations"`
	Returned          int           `json:"returned"`
	Truncated         bool          `json:"truncated"`
	Observations      []observation `json:"observations"`
}

func (t *iotTools) history(ctx context.Context, in historyIn) (historyOut, error) {
	a, err := t.asset(ctx, in.SiteName, in.AssetID)
	if err != nil {
		return historyOut{}, err
	}
	start, err := fixtures.ParseLocalTime(in.Start)
	if err != nil {
		return historyOut{}, fmt.Errorf("start: %w", err)
	}
	end, err := fixtures.ParseLocalTime(in.End)
	if err != nil {
		return historyOut{}, fmt.Errorf("end: %w", err)
	}
	if !start.Before(end) {
		return historyOut{}, fmt.Errorf("start %s is not before end %s", fixtures.LocalTime{Time: start}.String(), fixtures.LocalTime{Time: end}.String())
	}
	sensors, err := pickSensors(a, in.Sensors)
	if err != nil {
		return historyOut{}, err
	}
	limit := in.Limit
	switch {
	case limit == 0:
		limit = DefaultHistoryLimit
	case limit < 0 || limit > MaxHistoryLimit:
		return historyOut{}, fmt.Errorf("limit %d out of range 1..%d", limit, MaxHistoryLimit)
	}
	series, total, err := t.store.History(ctx, a.ID, start, end, limit)
	if err != nil {
		return historyOut{}, err
	}
	out := historyOut{
		SiteName: a.Site, AssetID: a.ID, Start: fixtures.LocalTime{Time: start}.String(), End: fixtures.LocalTime{Time: end}.String(),
		Sensors: sensors, TotalObservations: total, Returned: len(series.Times), Truncated: total > len(series.Times),
		Observations: []observation{},
	}
	cols := make([]int, len(sensors))
	for k, name := range sensors {
		cols[k] = series.Column(name)
	}
	for i, ts := range series.Times {
		vals := map[string]float64{}
		for k, name := range sensors {
			if v := series.Values[cols[k]][i]; !math.IsNaN(v) {
				vals[name] = v
			}
		}
		out.Observations = append(out.Observations, observation{Timestamp: ts.String(), Values: vals})
	}
	return out, nil
}

// pickSensors resolves requested sensor names, full ("Chiller 6 Tonnage") or
// short ("Tonnage"), case-insensitively.
func pickSensors(a fixtures.Asset, want []string) ([]string, error) {
	if len(want) == 0 {
		return a.Sensors, nil
	}
	var out []string
	for _, w := range want {
		w = strings.TrimSpace(w)
		found := ""
		for _, s := range a.Sensors {
			if strings.EqualFold(s, w) || strings.EqualFold(s, a.ID+" "+w) {
				found = s
				break
			}
		}
		if found == "" {
			return nil, fmt.Errorf("asset %s has no sensor %q (sensors: %s)", a.ID, w, strings.Join(a.Sensors, ", "))
		}
		out = append(out, found)
	}
	return out, nil
}

func (t *iotTools) site(ctx context.Context, name string) (string, error) {
	sites, err := t.store.Sites(ctx)
	if err != nil {
		return "", err
	}
	var names []string
	for _, s := range sites {
		if strings.EqualFold(s.Name, strings.TrimSpace(name)) {
			return s.Name, nil
		}
		names = append(names, s.Name)
	}
	return "", fmt.Errorf("unknown site %q (sites: %s)", name, strings.Join(names, ", "))
}

func (t *iotTools) asset(ctx context.Context, siteName, assetID string) (fixtures.Asset, error) {
	site, err := t.site(ctx, siteName)
	if err != nil {
		return fixtures.Asset{}, err
	}
	all, err := t.store.Assets(ctx)
	if err != nil {
		return fixtures.Asset{}, err
	}
	var names []string
	for _, a := range all {
		if a.Site != site {
			continue
		}
		if strings.EqualFold(a.ID, strings.TrimSpace(assetID)) {
			return a, nil
		}
		names = append(names, a.ID)
	}
	return fixtures.Asset{}, fmt.Errorf("unknown asset %q at site %s (assets: %s)", assetID, site, strings.Join(names, ", "))
}
