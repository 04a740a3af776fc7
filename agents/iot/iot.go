// Package iot provides the IoT agent's tools: sites, assets, their sensors,
// telemetry history in pages or files, the latest reading and statistics.
package iot

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
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
	SensorCatalog(ctx context.Context) ([]fixtures.SensorInfo, error)
	// History returns up to limit records of an asset in [start, end) and
	// how many the window holds (limit 0: all).
	History(ctx context.Context, assetID string, start, end time.Time, limit int) (*fixtures.Series, int, error)
	// Extent returns the times of an asset's first and last records.
	Extent(ctx context.Context, assetID string) (first, last time.Time, ok bool, err error)
	// Latest returns an asset's last record at or before t.
	Latest(ctx context.Context, assetID string, t time.Time) (*fixtures.Series, error)
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
		tools.New("iot.assets", "List the monitored assets of a site, optionally of one class (chiller, ahu).", t.assets),
		tools.New("iot.asset_detail", "Describe an asset: class, equipment id, capacity, installation, sensors and the span of its telemetry.", t.assetDetail),
		tools.New("iot.sensors", "List the sensors of an asset with their units; with a run folder, also writes the list to a file.", t.sensors),
		tools.New("iot.history", "Telemetry of an asset in the half-open window [start, end), oldest first, optionally only some sensors. "+
			"Times are site-local ISO 8601 (2020-06-01T06:00:00 or 2020-06-01). Returns a page of up to limit records and a "+
			"next_cursor for the next page; when the window holds more than a page, the whole window is also written to a file "+
			"(file_path) that the tsfm tools read.", t.history),
		tools.New("iot.latest_reading", "The last readings of an asset at or before the current time, and their age.", t.latestReading),
		tools.New("iot.sensor_stats", "Per-sensor statistics of an asset over [start, end): count, missing, min, max, mean, "+
			"standard deviation (population), first and last reading times.", t.sensorStats),
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
	SiteName   string `json:"site_name" jsonschema:"site name, e.g. MAIN"`
	AssetClass string `json:"asset_class,omitempty" jsonschema:"only assets of this class, e.g. chiller or ahu"`
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
	AssetClass  string         `json:"asset_class,omitempty"`
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
	class := strings.ToLower(strings.TrimSpace(in.AssetClass))
	out := assetsOut{SiteName: site, AssetClass: class, Assets: []assetSummary{}}
	classes := map[string]bool{}
	for _, a := range all {
		if a.Site != site {
			continue
		}
		classes[a.Class] = true
		if class == "" || a.Class == class {
			out.Assets = append(out.Assets, assetSummary{a.ID, a.Class, a.EquipmentID, a.Description, len(a.Sensors)})
		}
	}
	if class != "" && !classes[class] {
		return assetsOut{}, fmt.Errorf("no asset class %q at site %s (classes: %s)", in.AssetClass, site, strings.Join(slices.Sorted(maps.Keys(classes)), ", "))
	}
	out.TotalAssets = len(out.Assets)
	return out, nil
}

type assetIn struct {
	SiteName string `json:"site_name" jsonschema:"site name, e.g. MAIN"`
	AssetID  string `json:"asset_id" jsonschema:"asset name, e.g. Chiller 6"`
}

type assetDetailOut struct {
	SiteName       string   `json:"site_name"`
	AssetID        string   `json:"asset_id"`
	AssetClass     string   `json:"asset_class"`
	EquipmentID    string   `json:"equipment_id"`
	Description    string   `json:"description"`
	CapacityTons   float64  `json:"capacity_tons,omitempty"`
	InstallDate    string   `json:"install_date,omitempty"`
	TotalSensors   int      `json:"total_sensors"`
	Sensors        []string `json:"sensors"`
	TelemetryStart string   `json:"telemetry_start,omitempty"`
	TelemetryEnd   string   `json:"telemetry_end,omitempty"`
}

func (t *iotTools) assetDetail(ctx context.Context, in assetIn) (assetDetailOut, error) {
	a, err := t.asset(ctx, in.SiteName, in.AssetID)
	if err != nil {
		return assetDetailOut{}, err
	}
	out := assetDetailOut{
		SiteName: a.Site, AssetID: a.ID, AssetClass: a.Class, EquipmentID: a.EquipmentID, Description: a.Description,
		CapacityTons: a.CapacityTons, TotalSensors: len(a.Sensors), Sensors: a.Sensors,
	}
	if !a.InstallDate.IsZero() {
		out.InstallDate = a.InstallDate.Format("2006-01-02")
	}
	first, last, ok, err := t.store.Extent(ctx, a.ID)
	if err != nil {
		return assetDetailOut{}, err
	}
	if ok {
		out.TelemetryStart, out.TelemetryEnd = fixtures.LocalTime{Time: first}.String(), fixtures.LocalTime{Time: last}.String()
	}
	return out, nil
}

type sensorDetail struct {
	Sensor      string `json:"sensor"`
	Unit        string `json:"unit,omitempty"`
	Description string `json:"description,omitempty"`
	Formula     string `json:"formula,omitempty"`
}

type sensorsOut struct {
	SiteName     string         `json:"site_name"`
	AssetID      string         `json:"asset_id"`
	TotalSensors int            `json:"total_sensors"`
	Sensors      []string       `json:"sensors"`
	Details      []sensorDetail `json:"details"`
	FilePath     string         `json:"file_path,omitempty"`
}

func (t *iotTools) sensors(ctx context.Context, in assetIn) (sensorsOut, error) {
	a, err := t.asset(ctx, in.SiteName, in.AssetID)
	if err != nil {
		return sensorsOut{}, err
	}
	catalog, err := t.store.SensorCatalog(ctx)
	if err != nil {
		return sensorsOut{}, err
	}
	out := sensorsOut{SiteName: a.Site, AssetID: a.ID, TotalSensors: len(a.Sensors), Sensors: a.Sensors, Details: []sensorDetail{}}
	for _, s := range a.Sensors {
		d := sensorDetail{Sensor: s}
		for _, c := range catalog {
			if c.Class == a.Class && s == a.ID+" "+c.Name {
				d.Unit, d.Description, d.Formula = c.Unit, c.Description, c.Formula
			}
		}
		out.Details = append(out.Details, d)
	}
	// As in the original, the list also goes to a file other tools can read.
	if env := tools.EnvFrom(ctx); env.OutDir != "" {
		b, err := json.Marshal(map[string]any{"asset_id": a.ID, "sensors": a.Sensors})
		if err != nil {
			return sensorsOut{}, err
		}
		if out.FilePath, err = env.WriteFile("sensors-"+a.ID+".json", b); err != nil {
			return sensorsOut{}, err
		}
	}
	return out, nil
}

type historyIn struct {
	windowIn
	Limit  int    `json:"limit,omitempty" jsonschema:"records per page (default 100, at most 1000)"`
	Cursor string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page of the same query"`
}

// Observation is a record as the history tools return it.
type Observation struct {
	Timestamp string             `json:"timestamp"`
	Values    map[string]float64 `json:"values"`
}

// HistoryFile is what iot.history writes for a window larger than a page,
// and what the tsfm tools read.
type HistoryFile struct {
	AssetID      string        `json:"asset_id"`
	Start        string        `json:"start"`
	End          string        `json:"end"`
	Sensors      []string      `json:"sensors"`
	Observations []Observation `json:"observations"`
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
	NextCursor        string        `json:"next_cursor,omitempty"`
	FilePath          string        `json:"file_path,omitempty"`
	Observations      []Observation `json:"observations"`
}

// cursor marks where the next page starts; it is bound to its query, so a
// cursor from another query is refused rather than misread.
type cursor struct {
	After int64  `json:"after"` // Unix seconds of the last record returned
	Query string `json:"q"`
}

func queryHash(parts ...any) string {
	sum := sha256.Sum256(fmt.Append(nil, parts...))
	return hex.EncodeToString(sum[:6])
}

func (t *iotTools) history(ctx context.Context, in historyIn) (historyOut, error) {
	a, start, end, sensors, err := t.window(ctx, in.windowIn)
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
	query := queryHash(a.ID, start.Unix(), end.Unix(), sensors)
	from := start
	if in.Cursor != "" {
		var c cursor
		b, err := base64.RawURLEncoding.DecodeString(in.Cursor)
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		// The position must lie in the window as well: a cursor edited to
		// point before start paged out records outside [start, end).
		last := time.Unix(c.After, 0)
		if err != nil || c.Query != query || last.Before(start) || !last.Before(end) {
			return historyOut{}, fmt.Errorf("cursor %q does not belong to this query (same asset, window and sensors)", in.Cursor)
		}
		from = time.Unix(c.After+1, 0).UTC()
	}
	page, remaining, err := t.store.History(ctx, a.ID, from, end, limit)
	if err != nil {
		return historyOut{}, err
	}
	total := remaining
	if from != start {
		if _, total, err = t.store.History(ctx, a.ID, start, end, 1); err != nil {
			return historyOut{}, err
		}
	}
	out := historyOut{
		SiteName: a.Site, AssetID: a.ID, Start: fixtures.LocalTime{Time: start}.String(), End: fixtures.LocalTime{Time: end}.String(),
		Sensors: sensors, TotalObservations: total, Observations: observations(page, sensors),
	}
	out.Returned = len(out.Observations)
	if remaining > out.Returned {
		b, _ := json.Marshal(cursor{After: page.Times[out.Returned-1].Unix(), Query: query})
		out.NextCursor, out.Truncated = base64.RawURLEncoding.EncodeToString(b), true
	}
	// A window larger than a page also goes to a file, once, on its first page.
	if env := tools.EnvFrom(ctx); out.Truncated && from == start && env.OutDir != "" {
		all, _, err := t.store.History(ctx, a.ID, start, end, 0)
		if err != nil {
			return historyOut{}, err
		}
		b, err := json.Marshal(HistoryFile{AssetID: a.ID, Start: out.Start, End: out.End, Sensors: sensors, Observations: observations(all, sensors)})
		if err != nil {
			return historyOut{}, err
		}
		name := fmt.Sprintf("history-%s-%s-%s.json", a.ID, start.Format("20060102T1504"), end.Format("20060102T1504"))
		if out.FilePath, err = env.WriteFile(name, b); err != nil {
			return historyOut{}, err
		}
	}
	return out, nil
}

func observations(s *fixtures.Series, sensors []string) []Observation {
	cols := make([]int, len(sensors))
	for k, name := range sensors {
		cols[k] = s.Column(name)
	}
	out := []Observation{}
	for i, ts := range s.Times {
		vals := map[string]float64{}
		for k, name := range sensors {
			if v := s.Values[cols[k]][i]; !math.IsNaN(v) {
				vals[name] = v
			}
		}
		out = append(out, Observation{Timestamp: ts.String(), Values: vals})
	}
	return out
}

type latestIn struct {
	assetIn
	Sensor string `json:"sensor,omitempty" jsonschema:"only this sensor (full or short name)"`
}

type latestOut struct {
	SiteName   string             `json:"site_name"`
	AssetID    string             `json:"asset_id"`
	Now        string             `json:"now"`
	Timestamp  string             `json:"timestamp"`
	AgeSeconds int64              `json:"age_seconds"`
	Values     map[string]float64 `json:"values"`
}

func (t *iotTools) latestReading(ctx context.Context, in latestIn) (latestOut, error) {
	a, err := t.asset(ctx, in.SiteName, in.AssetID)
	if err != nil {
		return latestOut{}, err
	}
	sensors := a.Sensors
	if in.Sensor != "" {
		if sensors, err = pickSensors(a, []string{in.Sensor}); err != nil {
			return latestOut{}, err
		}
	}
	now := tools.EnvFrom(ctx).Now
	s, err := t.store.Latest(ctx, a.ID, now)
	if err != nil {
		return latestOut{}, err
	}
	if len(s.Times) == 0 {
		return latestOut{}, fmt.Errorf("%s has no readings at or before %s", a.ID, fixtures.LocalTime{Time: now})
	}
	obs := observations(s, sensors)[0]
	return latestOut{
		SiteName: a.Site, AssetID: a.ID, Now: fixtures.LocalTime{Time: now}.String(), Timestamp: obs.Timestamp,
		AgeSeconds: int64(now.Sub(s.Times[0].Time) / time.Second), Values: obs.Values,
	}, nil
}

// windowIn is an asset's sensors over [start, end).
type windowIn struct {
	assetIn
	Start   string   `json:"start" jsonschema:"inclusive start, site-local ISO 8601"`
	End     string   `json:"end" jsonschema:"exclusive end, site-local ISO 8601"`
	Sensors []string `json:"sensors,omitempty" jsonschema:"only these sensors (full or short names); all when empty"`
}

// SensorStats summarises one sensor over a window.
type SensorStats struct {
	Sensor         string   `json:"sensor"`
	Count          int      `json:"count"`
	NullCount      int      `json:"null_count"`
	Min            *float64 `json:"min,omitempty"`
	Max            *float64 `json:"max,omitempty"`
	Mean           *float64 `json:"mean,omitempty"`
	StdDev         *float64 `json:"stddev,omitempty"`
	FirstTimestamp string   `json:"first_timestamp,omitempty"`
	LastTimestamp  string   `json:"last_timestamp,omitempty"`
}

type statsOut struct {
	SiteName     string        `json:"site_name"`
	AssetID      string        `json:"asset_id"`
	Start        string        `json:"start"`
	End          string        `json:"end"`
	TotalRecords int           `json:"total_records"`
	Stats        []SensorStats `json:"stats"`
}

func (t *iotTools) sensorStats(ctx context.Context, in windowIn) (statsOut, error) {
	a, start, end, sensors, err := t.window(ctx, in)
	if err != nil {
		return statsOut{}, err
	}
	s, total, err := t.store.History(ctx, a.ID, start, end, 0)
	if err != nil {
		return statsOut{}, err
	}
	out := statsOut{SiteName: a.Site, AssetID: a.ID, Start: fixtures.LocalTime{Time: start}.String(),
		End: fixtures.LocalTime{Time: end}.String(), TotalRecords: total, Stats: []SensorStats{}}
	for _, name := range sensors {
		out.Stats = append(out.Stats, Stats(name, s.Times, s.Values[s.Column(name)]))
	}
	return out, nil
}

// Stats summarises a column; NaN is a missing reading. Means and standard
// deviations are rounded to 6 decimals, so they read the same everywhere.
func Stats(sensor string, times []fixtures.LocalTime, col []float64) SensorStats {
	st := SensorStats{Sensor: sensor}
	var sum, sumSq, lo, hi float64
	for i, v := range col {
		if math.IsNaN(v) {
			st.NullCount++
			continue
		}
		if st.Count == 0 {
			lo, hi = v, v
			st.FirstTimestamp = times[i].String()
		}
		st.Count++
		st.LastTimestamp = times[i].String()
		sum += v
		sumSq += v * v
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if st.Count > 0 {
		n := float64(st.Count)
		mean := sum / n
		sd := math.Sqrt(math.Max(0, sumSq/n-mean*mean))
		r := func(x float64) *float64 { x = math.Round(x*1e6) / 1e6; return &x }
		st.Min, st.Max, st.Mean, st.StdDev = &lo, &hi, r(mean), r(sd)
	}
	return st
}

// window checks an asset and a [start, end) window and resolves sensors.
func (t *iotTools) window(ctx context.Context, in windowIn) (fixtures.Asset, time.Time, time.Time, []string, error) {
	a, err := t.asset(ctx, in.SiteName, in.AssetID)
	if err != nil {
		return a, time.Time{}, time.Time{}, nil, err
	}
	start, err := fixtures.ParseLocalTime(in.Start)
	if err != nil {
		return a, start, time.Time{}, nil, fmt.Errorf("start: %w", err)
	}
	end, err := fixtures.ParseLocalTime(in.End)
	if err != nil {
		return a, start, end, nil, fmt.Errorf("end: %w", err)
	}
	if !start.Before(end) {
		return a, start, end, nil, fmt.Errorf("start %s is not before end %s: the window [start, end) is empty",
			fixtures.LocalTime{Time: start}, fixtures.LocalTime{Time: end})
	}
	sensors, err := pickSensors(a, in.Sensors)
	return a, start, end, sensors, err
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
