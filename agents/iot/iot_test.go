package iot_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/iot"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// dataset is the raw tables the expected answers are computed from;
// generating them takes a second, so once per test binary.
var dataset = sync.OnceValue(func() *fixtures.Dataset { return fixtures.Generate(fixtures.DefaultSeed) })

const layout = "2006-01-02T15:04:05"

// at is a site-local wall time, stored as UTC like the dataset's.
func at(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
}

func rawAsset(t testing.TB, id string) fixtures.Asset {
	t.Helper()
	for _, a := range dataset().Assets {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no asset %q in the raw tables", id)
	return fixtures.Asset{}
}

func rawSeries(t testing.TB, id string) *fixtures.Series {
	t.Helper()
	d := dataset()
	for i := range d.Telemetry {
		if d.Telemetry[i].AssetID == id {
			return &d.Telemetry[i]
		}
	}
	t.Fatalf("no telemetry for %q in the raw tables", id)
	return nil
}

// column finds a sensor's column without Series.Column, which would add
// one to the shared raw tables.
func column(t testing.TB, s *fixtures.Series, sensor string) []float64 {
	t.Helper()
	for k, name := range s.Sensors {
		if name == sensor {
			return s.Values[k]
		}
	}
	t.Fatalf("%s has no column %q", s.AssetID, sensor)
	return nil
}

// rawWindow is what the history of [from, to) must hold: the records in
// the window, oldest first, with the non-missing readings of sensors.
func rawWindow(t testing.TB, assetID string, from, to time.Time, sensors []string) []iot.Observation {
	t.Helper()
	s := rawSeries(t, assetID)
	cols := make([][]float64, len(sensors))
	for k, name := range sensors {
		cols[k] = column(t, s, name)
	}
	out := []iot.Observation{}
	for i, ts := range s.Times {
		if ts.Before(from) || !ts.Before(to) {
			continue
		}
		vals := map[string]float64{}
		for k, name := range sensors {
			if v := cols[k][i]; !math.IsNaN(v) {
				vals[name] = v
			}
		}
		out = append(out, iot.Observation{Timestamp: ts.UTC().Format(layout), Values: vals})
	}
	return out
}

// The results as an agent reads them.
type (
	sitesOut struct {
		Sites []string `json:"sites"`
	}
	assetSummary struct {
		AssetID     string `json:"asset_id"`
		AssetClass  string `json:"asset_class"`
		EquipmentID string `json:"equipment_id"`
		Description string `json:"description"`
		Sensors     int    `json:"total_sensors"`
	}
	assetsOut struct {
		SiteName    string         `json:"site_name"`
		AssetClass  string         `json:"asset_class"`
		TotalAssets int            `json:"total_assets"`
		Assets      []assetSummary `json:"assets"`
	}
	assetDetailOut struct {
		SiteName       string   `json:"site_name"`
		AssetID        string   `json:"asset_id"`
		AssetClass     string   `json:"asset_class"`
		EquipmentID    string   `json:"equipment_id"`
		Description    string   `json:"description"`
		CapacityTons   float64  `json:"capacity_tons"`
		InstallDate    string   `json:"install_date"`
		TotalSensors   int      `json:"total_sensors"`
		Sensors        []string `json:"sensors"`
		TelemetryStart string   `json:"telemetry_start"`
		TelemetryEnd   string   `json:"telemetry_end"`
	}
	sensorDetail struct {
		Sensor      string `json:"sensor"`
		Unit        string `json:"unit"`
		Description string `json:"description"`
		Formula     string `json:"formula"`
	}
	sensorsOut struct {
		SiteName     string         `json:"site_name"`
		AssetID      string         `json:"asset_id"`
		TotalSensors int            `json:"total_sensors"`
		Sensors      []string       `json:"sensors"`
		Details      []sensorDetail `json:"details"`
		FilePath     string         `json:"file_path"`
	}
	historyOut struct {
		SiteName          string            `json:"site_name"`
		AssetID           string            `json:"asset_id"`
		Start             string            `json:"start"`
		End               string            `json:"end"`
		Sensors           []string          `json:"sensors"`
		TotalObservations int               `json:"total_observations"`
		Returned          int               `json:"returned"`
		Truncated         bool              `json:"truncated"`
		NextCursor        string            `json:"next_cursor"`
		FilePath          string            `json:"file_path"`
		Observations      []iot.Observation `json:"observations"`
	}
	latestOut struct {
		SiteName   string             `json:"site_name"`
		AssetID    string             `json:"asset_id"`
		Now        string             `json:"now"`
		Timestamp  string             `json:"timestamp"`
		AgeSeconds int64              `json:"age_seconds"`
		Values     map[string]float64 `json:"values"`
	}
	statsOut struct {
		SiteName     string            `json:"site_name"`
		AssetID      string            `json:"asset_id"`
		Start        string            `json:"start"`
		End          string            `json:"end"`
		TotalRecords int               `json:"total_records"`
		Stats        []iot.SensorStats `json:"stats"`
	}
)

func TestSites(t *testing.T) {
	reg := agentstest.Registry(t)
	var want sitesOut
	for _, s := range dataset().Sites {
		want.Sites = append(want.Sites, s.Name)
	}
	slices.Sort(want.Sites)
	for _, args := range []string{``, `{}`} {
		got := agentstest.Call[sitesOut](t, context.Background(), reg, "iot.sites", args)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("iot.sites %q (-want +got):\n%s", args, diff)
		}
	}
}

func TestAssets(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []struct {
		name, site, class string
		wantClass         string // the class filter as the tool reports it
	}{
		{name: "all", site: "MAIN"},
		{name: "site case and space", site: " main "},
		{name: "chillers", site: "MAIN", class: "chiller", wantClass: "chiller"},
		{name: "ahus, class normalised", site: "MAIN", class: " AHU ", wantClass: "ahu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := assetsOut{SiteName: "MAIN", AssetClass: tt.wantClass, Assets: []assetSummary{}}
			for _, a := range dataset().Assets {
				if a.Site == "MAIN" && (tt.wantClass == "" || a.Class == tt.wantClass) {
					want.Assets = append(want.Assets, assetSummary{a.ID, a.Class, a.EquipmentID, a.Description, len(a.Sensors)})
				}
			}
			want.TotalAssets = len(want.Assets)
			if want.TotalAssets == 0 {
				t.Fatal("the raw tables have no such assets: the case tests nothing")
			}
			got := agentstest.Call[assetsOut](t, context.Background(), reg, "iot.assets", map[string]string{"site_name": tt.site, "asset_class": tt.class})
			// The order is the store's; what matters is the set.
			opt := cmpopts.SortSlices(func(a, b assetSummary) bool { return a.AssetID < b.AssetID })
			if diff := cmp.Diff(want, got, opt); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssetDetail(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []struct{ arg, asset string }{
		{"Chiller 6", "Chiller 6"},
		{" chiller 9 ", "Chiller 9"},
		{"Chiller 3", "Chiller 3"},
		{"CQPA AHU 1", "CQPA AHU 1"},
		{"cqpa ahu 2b", "CQPA AHU 2B"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			a, s := rawAsset(t, tt.asset), rawSeries(t, tt.asset)
			want := assetDetailOut{
				SiteName: a.Site, AssetID: a.ID, AssetClass: a.Class, EquipmentID: a.EquipmentID, Description: a.Description,
				CapacityTons: a.CapacityTons, InstallDate: a.InstallDate.Format("2006-01-02"), TotalSensors: len(a.Sensors), Sensors: a.Sensors,
				TelemetryStart: s.Times[0].UTC().Format(layout), TelemetryEnd: s.Times[len(s.Times)-1].UTC().Format(layout),
			}
			got := agentstest.Call[assetDetailOut](t, context.Background(), reg, "iot.asset_detail", map[string]string{"site_name": "MAIN", "asset_id": tt.arg})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSensors(t *testing.T) {
	reg := agentstest.Registry(t)
	for _, id := range []string{"Chiller 6", "Chiller 4", "CQPA AHU 1", "CQPA AHU 2B"} {
		for _, withDir := range []bool{false, true} {
			t.Run(id+map[bool]string{false: " no folder", true: " with folder"}[withDir], func(t *testing.T) {
				a := rawAsset(t, id)
				want := sensorsOut{SiteName: a.Site, AssetID: a.ID, TotalSensors: len(a.Sensors), Sensors: a.Sensors}
				for _, s := range a.Sensors {
					d := sensorDetail{Sensor: s}
					for _, c := range dataset().Sensors {
						if c.Class == a.Class && a.ID+" "+c.Name == s {
							d.Unit, d.Description, d.Formula = c.Unit, c.Description, c.Formula
						}
					}
					if d.Unit == "" {
						t.Errorf("the raw catalog has no unit for %s", s)
					}
					want.Details = append(want.Details, d)
				}
				env := tools.Env{}
				if withDir {
					env.OutDir = t.TempDir()
					want.FilePath = "sensors-" + a.ID + ".json"
				}
				got := agentstest.Call[sensorsOut](t, tools.WithEnv(context.Background(), env), reg, "iot.sensors",
					map[string]string{"site_name": "main", "asset_id": strings.ToUpper(id)})
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
				if !withDir {
					return
				}
				// The file holds the list for fmsr.read_sensors_from_file.
				b, err := os.ReadFile(filepath.Join(env.OutDir, got.FilePath))
				if err != nil {
					t.Fatal(err)
				}
				var file struct {
					AssetID string   `json:"asset_id"`
					Sensors []string `json:"sensors"`
				}
				if err := json.Unmarshal(b, &file); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(a.Sensors, file.Sensors); diff != "" || file.AssetID != a.ID {
					t.Errorf("file asset %q, sensors (-want +got):\n%s", file.AssetID, diff)
				}
			})
		}
	}
}

// historyCase is a history query and the window and sensors it means.
type historyCase struct {
	name        string
	asset       string // as the agent writes it
	id          string // the asset it is
	start, end  string
	from, to    time.Time // the window the times mean
	sensors     []string  // as the agent writes them
	wantSensors []string  // full names; nil: all of the asset's
	limit       int
}

func (c historyCase) args(cursor string) map[string]any {
	m := map[string]any{"site_name": "MAIN", "asset_id": c.asset, "start": c.start, "end": c.end}
	if c.sensors != nil {
		m["sensors"] = c.sensors
	}
	if c.limit != 0 {
		m["limit"] = c.limit
	}
	if cursor != "" {
		m["cursor"] = cursor
	}
	return m
}

func (c historyCase) fullSensors(t testing.TB) []string {
	if c.wantSensors != nil {
		return c.wantSensors
	}
	return rawAsset(t, c.id).Sensors
}

func (c historyCase) pageSize() int {
	if c.limit == 0 {
		return iot.DefaultHistoryLimit
	}
	return c.limit
}

var historyCases = []historyCase{
	{name: "half-open: end excluded, start included", asset: "Chiller 6", id: "Chiller 6",
		start: "2020-06-02T23:30:00", end: "2020-06-03T00:00:00", from: at(2020, 6, 2, 23, 30), to: at(2020, 6, 3, 0, 0)},
	{name: "short and full sensor names", asset: "Chiller 9", id: "Chiller 9",
		start: "2020-06-03T14:00", end: "2020-06-03T16:00", from: at(2020, 6, 3, 14, 0), to: at(2020, 6, 3, 16, 0),
		sensors: []string{"Tonnage", "chiller 9 power input", " Supply Temperature "}, wantSensors: []string{"Chiller 9 Tonnage", "Chiller 9 Power Input", "Chiller 9 Supply Temperature"}},
	{name: "ahu day by suffix", asset: "CQPA AHU 2B", id: "CQPA AHU 2B",
		start: "2020-08-10", end: "2020-08-11", from: at(2020, 8, 10, 0, 0), to: at(2020, 8, 11, 0, 0),
		sensors: []string{"Supply Fan Current", "duct static pressure", "Power (Calc)"}, wantSensors: []string{"CQPA AHU 2B Supply Fan Current", "CQPA AHU 2B Duct Static Pressure", "CQPA AHU 2B Power (Calc)"},
		limit: 1000},
	{name: "default page of two days", asset: "cqpa ahu 1", id: "CQPA AHU 1",
		start: "2020-03-01", end: "2020-03-03", from: at(2020, 3, 1, 0, 0), to: at(2020, 3, 3, 0, 0)},
	{name: "space layout, odd minutes", asset: "Chiller 4", id: "Chiller 4",
		start: "2020-11-05 06:07", end: "2020-11-05 09:53:10", from: at(2020, 11, 5, 6, 7), to: at(2020, 11, 5, 9, 53).Add(10 * time.Second),
		sensors: []string{"Chiller % Loaded"}, wantSensors: []string{"Chiller 4 Chiller % Loaded"}},
	{name: "zoned times are converted to UTC", asset: "Chiller 3", id: "Chiller 3",
		start: "2020-06-03T16:00:00+02:00", end: "2020-06-03T18:30:00+02:00", from: at(2020, 6, 3, 14, 0), to: at(2020, 6, 3, 16, 30)},
	{name: "month, page of 1000", asset: "Chiller 9", id: "Chiller 9",
		start: "2020-06-01", end: "2020-07-01", from: at(2020, 6, 1, 0, 0), to: at(2020, 7, 1, 0, 0), limit: 1000},
	{name: "before the data", asset: "Chiller 6", id: "Chiller 6",
		start: "2019-12-31T22:00:00", end: "2020-01-01T01:00:00", from: at(2019, 12, 31, 22, 0), to: at(2020, 1, 1, 1, 0)},
	{name: "after the data", asset: "Chiller 6", id: "Chiller 6",
		start: "2021-01-01", end: "2021-01-02", from: at(2021, 1, 1, 0, 0), to: at(2021, 1, 2, 0, 0)},
	{name: "one record, limit 1", asset: "CQPA AHU 1", id: "CQPA AHU 1",
		start: "2020-05-05T10:15:00", end: "2020-05-05T10:16:00", from: at(2020, 5, 5, 10, 15), to: at(2020, 5, 5, 10, 16), limit: 1},
}

func TestHistory(t *testing.T) {
	reg := agentstest.Registry(t)
	for _, c := range historyCases {
		t.Run(c.name, func(t *testing.T) {
			sensors := c.fullSensors(t)
			all := rawWindow(t, c.id, c.from, c.to, sensors)
			page := all[:min(len(all), c.pageSize())]
			want := historyOut{
				SiteName: "MAIN", AssetID: c.id, Start: c.from.Format(layout), End: c.to.Format(layout), Sensors: sensors,
				TotalObservations: len(all), Returned: len(page), Truncated: len(all) > len(page), Observations: page,
			}
			got := agentstest.Call[historyOut](t, context.Background(), reg, "iot.history", c.args(""))
			// The cursor is opaque: only whether there is one is checked here.
			if (got.NextCursor != "") != want.Truncated {
				t.Errorf("next_cursor %q with truncated %v", got.NextCursor, want.Truncated)
			}
			got.NextCursor = ""
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Paging through a window with the cursors gives back the whole window,
// each record once, whatever the page size.
func TestHistoryPaging(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []historyCase{
		{name: "week in pages of 100", asset: "Chiller 6", id: "Chiller 6",
			start: "2020-06-01", end: "2020-06-08", from: at(2020, 6, 1, 0, 0), to: at(2020, 6, 8, 0, 0), limit: 100},
		{name: "month of one sensor in pages of 1000", asset: "Chiller 3", id: "Chiller 3",
			start: "2020-06-01", end: "2020-07-01", from: at(2020, 6, 1, 0, 0), to: at(2020, 7, 1, 0, 0),
			sensors: []string{"Tonnage"}, wantSensors: []string{"Chiller 3 Tonnage"}, limit: 1000},
		{name: "ahu three days in pages of 97", asset: "CQPA AHU 2B", id: "CQPA AHU 2B",
			start: "2020-02-27T12:00", end: "2020-03-01T12:00", from: at(2020, 2, 27, 12, 0), to: at(2020, 3, 1, 12, 0),
			sensors: []string{"Supply Air Temperature", "Supply Fan Status"}, wantSensors: []string{"CQPA AHU 2B Supply Air Temperature", "CQPA AHU 2B Supply Fan Status"}, limit: 97},
		{name: "two hours record by record", asset: "CQPA AHU 1", id: "CQPA AHU 1",
			start: "2020-10-10T08:00", end: "2020-10-10T10:00", from: at(2020, 10, 10, 8, 0), to: at(2020, 10, 10, 10, 0), limit: 1},
		{name: "exactly one page", asset: "Chiller 4", id: "Chiller 4",
			start: "2020-04-01", end: "2020-04-02", from: at(2020, 4, 1, 0, 0), to: at(2020, 4, 2, 0, 0), limit: 96},
		{name: "empty window", asset: "Chiller 4", id: "Chiller 4",
			start: "2022-04-01", end: "2022-04-02", from: at(2022, 4, 1, 0, 0), to: at(2022, 4, 2, 0, 0), limit: 10},
	}
	var missing, gaps int // the windows must exercise missing readings and records
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			want := rawWindow(t, c.id, c.from, c.to, c.fullSensors(t))
			for i, o := range want {
				missing += len(c.fullSensors(t)) - len(o.Values)
				if i > 0 {
					prev, _ := time.Parse(layout, want[i-1].Timestamp)
					cur, _ := time.Parse(layout, o.Timestamp)
					if cur.Sub(prev) > 15*time.Minute {
						gaps++
					}
				}
			}
			wantPages := max(1, (len(want)+c.limit-1)/c.limit)
			outDir := t.TempDir()
			ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: outDir})
			got := []iot.Observation{}
			cursor := ""
			pages := 0
			for {
				pages++
				if pages > wantPages {
					t.Fatalf("more than the %d pages %d records in pages of %d make", wantPages, len(want), c.limit)
				}
				p := agentstest.Call[historyOut](t, ctx, reg, "iot.history", c.args(cursor))
				if p.TotalObservations != len(want) || p.Returned != len(p.Observations) || p.Returned > c.limit {
					t.Fatalf("page %d: total %d returned %d (%d observations), want total %d and at most %d",
						pages, p.TotalObservations, p.Returned, len(p.Observations), len(want), c.limit)
				}
				// Only the first page of a window larger than a page writes the file.
				if wantFile := pages == 1 && len(want) > c.limit; (p.FilePath != "") != wantFile {
					t.Errorf("page %d: file_path %q, want one: %v", pages, p.FilePath, wantFile)
				}
				got = append(got, p.Observations...)
				if (p.NextCursor != "") != p.Truncated {
					t.Fatalf("page %d: next_cursor %q with truncated %v", pages, p.NextCursor, p.Truncated)
				}
				if p.NextCursor == "" {
					break
				}
				cursor = p.NextCursor
			}
			if pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("concatenated pages (-want +got):\n%s", diff)
			}
		})
	}
	if missing == 0 || gaps == 0 {
		t.Errorf("the windows hold %d missing readings and %d gaps; pick windows with both", missing, gaps)
	}
}

// A cursor only continues the query it came from.
func TestHistoryCursor(t *testing.T) {
	reg := agentstest.Registry(t)
	ctx := context.Background()
	base := historyCase{asset: "Chiller 6", id: "Chiller 6", start: "2020-06-01", end: "2020-06-02",
		from: at(2020, 6, 1, 0, 0), to: at(2020, 6, 2, 0, 0), sensors: []string{"Tonnage"}, wantSensors: []string{"Chiller 6 Tonnage"}, limit: 10}
	first := agentstest.Call[historyOut](t, ctx, reg, "iot.history", base.args(""))
	if first.NextCursor == "" {
		t.Fatal("no cursor on a truncated page")
	}
	cur := first.NextCursor
	all := rawWindow(t, base.id, base.from, base.to, base.wantSensors)

	// tamper re-encodes the cursor with another position, the query kept.
	tamper := func(after int64) string {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		m["after"] = after
		b, _ = json.Marshal(m)
		return base64.RawURLEncoding.EncodeToString(b)
	}

	accepted := []struct {
		name string
		c    historyCase
		next int // index in all of the first record expected
	}{
		{"same query", base, 10},
		{"same query, full sensor name", func() historyCase { c := base; c.sensors = []string{"CHILLER 6 TONNAGE"}; return c }(), 10},
		// The page size is not part of the query: a model may change it.
		{"same query, another limit", func() historyCase { c := base; c.limit = 3; return c }(), 10},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			got := agentstest.Call[historyOut](t, ctx, reg, "iot.history", tt.c.args(cur))
			want := all[tt.next:min(len(all), tt.next+tt.c.limit)]
			if diff := cmp.Diff(want, got.Observations); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	refused := []struct {
		name   string
		c      historyCase
		cursor string
	}{
		{"another asset", func() historyCase { c := base; c.asset = "Chiller 9"; return c }(), cur},
		{"another start", func() historyCase { c := base; c.start = "2020-06-01T00:01"; return c }(), cur},
		{"another end", func() historyCase { c := base; c.end = "2020-06-03"; return c }(), cur},
		{"other sensors", func() historyCase { c := base; c.sensors = []string{"Tonnage", "Power Input"}; return c }(), cur},
		{"all sensors", func() historyCase { c := base; c.sensors = nil; return c }(), cur},
		{"not base64", base, "not a cursor!"},
		{"not JSON", base, base64.RawURLEncoding.EncodeToString([]byte("after=1"))},
		{"made up", base, base64.RawURLEncoding.EncodeToString([]byte(`{"after":1591000000,"q":"000000000000"}`))},
		// A cursor edited to point before the window must not return
		// records outside it.
		{"position before the window", base, tamper(0)},
		{"position overflows", base, tamper(math.MaxInt64)},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			out, err := reg.Call(ctx, "iot.history", agentstest.Args(t, tt.c.args(tt.cursor)))
			if err == nil || !strings.Contains(err.Error(), "does not belong to this query") {
				t.Errorf("err = %v, want the cursor refused; got %.300s", err, out)
			}
		})
	}
}

// A window larger than a page goes, whole, to a file in the run's folder.
func TestHistoryFile(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []historyCase{
		{name: "chiller month, all sensors", asset: "Chiller 9", id: "Chiller 9",
			start: "2020-06-01", end: "2020-07-01", from: at(2020, 6, 1, 0, 0), to: at(2020, 7, 1, 0, 0), limit: 1000},
		{name: "ahu sensors by suffix", asset: "CQPA AHU 1", id: "CQPA AHU 1",
			start: "2020-01-30T06:00", end: "2020-02-02T06:00", from: at(2020, 1, 30, 6, 0), to: at(2020, 2, 2, 6, 0),
			sensors: []string{"Supply Fan Output %", "power (calc)"}, wantSensors: []string{"CQPA AHU 1 Supply Fan Output %", "CQPA AHU 1 Power (Calc)"}, limit: 50},
		{name: "ahu two days, default page", asset: "CQPA AHU 2B", id: "CQPA AHU 2B",
			start: "2020-12-30", end: "2021-01-01", from: at(2020, 12, 30, 0, 0), to: at(2021, 1, 1, 0, 0)},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			got := agentstest.Call[historyOut](t, tools.WithEnv(context.Background(), tools.Env{OutDir: dir}), reg, "iot.history", c.args(""))
			if !got.Truncated {
				t.Fatal("the window fits in a page: the case tests nothing")
			}
			// The agent gets the name relative to the run's folder.
			if got.FilePath == "" || filepath.IsAbs(got.FilePath) || filepath.Base(got.FilePath) != got.FilePath {
				t.Fatalf("file_path %q, want a bare file name", got.FilePath)
			}
			b, err := os.ReadFile(filepath.Join(dir, got.FilePath))
			if err != nil {
				t.Fatal(err)
			}
			var file iot.HistoryFile
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&file); err != nil {
				t.Fatal(err)
			}
			sensors := c.fullSensors(t)
			want := iot.HistoryFile{AssetID: c.id, Start: c.from.Format(layout), End: c.to.Format(layout), Sensors: sensors,
				Observations: rawWindow(t, c.id, c.from, c.to, sensors)}
			if diff := cmp.Diff(want, file); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		})
	}

	// No file when the window fits in a page, or when the run has no folder.
	t.Run("fits in a page", func(t *testing.T) {
		dir := t.TempDir()
		c := historyCase{asset: "Chiller 6", start: "2020-06-01", end: "2020-06-02", limit: 96}
		if got := agentstest.Call[historyOut](t, tools.WithEnv(context.Background(), tools.Env{OutDir: dir}), reg, "iot.history", c.args("")); got.FilePath != "" || got.Truncated {
			t.Errorf("file_path %q truncated %v for a whole window in one page", got.FilePath, got.Truncated)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%d files written", len(ents))
		}
	})
	t.Run("no folder", func(t *testing.T) {
		c := historyCase{asset: "Chiller 6", start: "2020-06-01", end: "2020-06-03"}
		if got := agentstest.Call[historyOut](t, context.Background(), reg, "iot.history", c.args("")); got.FilePath != "" || !got.Truncated {
			t.Errorf("file_path %q truncated %v without a run folder", got.FilePath, got.Truncated)
		}
	})
}

// rawLatest is the index of the last record at or before now, or -1.
func rawLatest(s *fixtures.Series, now time.Time) int {
	last := -1
	for i, ts := range s.Times {
		if !ts.After(now) {
			last = i
		}
	}
	return last
}

func TestLatestReading(t *testing.T) {
	reg := agentstest.Registry(t)
	type latestCase struct {
		name, asset, id, sensor string
		wantSensor              string // full name; "" means all sensors
		now                     time.Time
	}
	tests := []latestCase{
		{name: "inside 2020, between records", asset: "Chiller 6", id: "Chiller 6", now: at(2020, 6, 3, 14, 7).Add(9 * time.Second)},
		{name: "on a record", asset: "chiller 9", id: "Chiller 9", now: at(2020, 6, 3, 14, 0)},
		{name: "just before midnight: previous day's record", asset: "CQPA AHU 1", id: "CQPA AHU 1", now: at(2020, 3, 2, 0, 0).Add(-time.Second)},
		{name: "midnight", asset: "CQPA AHU 2B", id: "CQPA AHU 2B", now: at(2020, 3, 2, 0, 0)},
		{name: "first instant of the data", asset: "Chiller 4", id: "Chiller 4", now: at(2020, 1, 1, 0, 0)},
		{name: "after the data", asset: "Chiller 3", id: "Chiller 3", now: at(2021, 3, 1, 12, 0)},
		{name: "default clock", asset: "Chiller 3", id: "Chiller 3"},
		{name: "one sensor by suffix", asset: "Chiller 6", id: "Chiller 6", sensor: "tonnage", wantSensor: "Chiller 6 Tonnage", now: at(2020, 8, 15, 9, 31)},
		{name: "ahu sensor by full name", asset: "CQPA AHU 2B", id: "CQPA AHU 2B", sensor: "CQPA AHU 2B Supply Fan Current", wantSensor: "CQPA AHU 2B Supply Fan Current", now: at(2020, 8, 15, 9, 31)},
		// Env.Now may carry a zone; the dataset's wall times are UTC.
		{name: "zoned clock", asset: "Chiller 6", id: "Chiller 6", now: time.Date(2020, 6, 2, 22, 10, 0, 0, time.FixedZone("EST", -5*3600))},
	}
	// Cases that depend on the data: a gap in the records, and a reading
	// missing at the latest record.
	s := rawSeries(t, "Chiller 9")
	for i := 1; i < len(s.Times); i++ {
		if s.Times[i].Sub(s.Times[i-1].Time) > 30*time.Minute {
			tests = append(tests, latestCase{name: "inside a gap", asset: "Chiller 9", id: "Chiller 9", now: s.Times[i].Add(-time.Minute)})
			break
		}
	}
	for i, v := range column(t, s, "Chiller 9 Tonnage") {
		if math.IsNaN(v) {
			tests = append(tests, latestCase{name: "sensor missing at the latest record", asset: "Chiller 9", id: "Chiller 9",
				sensor: "Tonnage", wantSensor: "Chiller 9 Tonnage", now: s.Times[i].Add(time.Minute)})
			break
		}
	}
	if len(tests) != 12 {
		t.Fatalf("the raw data has no gap or no missing reading to test (%d cases)", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = tools.DefaultNow
			}
			s := rawSeries(t, tt.id)
			i := rawLatest(s, now)
			if i < 0 {
				t.Fatal("no record at or before now in the raw data")
			}
			sensors := rawAsset(t, tt.id).Sensors
			if tt.wantSensor != "" {
				sensors = []string{tt.wantSensor}
			}
			want := latestOut{SiteName: "MAIN", AssetID: tt.id, Now: now.UTC().Format(layout), Timestamp: s.Times[i].UTC().Format(layout),
				AgeSeconds: int64(now.Sub(s.Times[i].Time).Seconds()), Values: map[string]float64{}}
			for _, name := range sensors {
				if v := column(t, s, name)[i]; !math.IsNaN(v) {
					want.Values[name] = v
				}
			}
			args := map[string]string{"site_name": "MAIN", "asset_id": tt.asset}
			if tt.sensor != "" {
				args["sensor"] = tt.sensor
			}
			got := agentstest.Call[latestOut](t, tools.WithEnv(context.Background(), tools.Env{Now: tt.now}), reg, "iot.latest_reading", args)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// rawStats summarises a column over [from, to) the textbook way: two
// passes, population standard deviation.
func rawStats(t testing.TB, s *fixtures.Series, sensor string, from, to time.Time) iot.SensorStats {
	col := column(t, s, sensor)
	st := iot.SensorStats{Sensor: sensor}
	var vals []float64
	for i, ts := range s.Times {
		if ts.Before(from) || !ts.Before(to) {
			continue
		}
		if math.IsNaN(col[i]) {
			st.NullCount++
			continue
		}
		if len(vals) == 0 {
			st.FirstTimestamp = ts.UTC().Format(layout)
		}
		st.LastTimestamp = ts.UTC().Format(layout)
		vals = append(vals, col[i])
	}
	st.Count = len(vals)
	if len(vals) == 0 {
		return st
	}
	lo, hi := slices.Min(vals), slices.Max(vals)
	var sum float64
	for _, v := range vals {
		sum += v
	}
	mean := sum / float64(len(vals))
	var ss float64
	for _, v := range vals {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(len(vals)))
	st.Min, st.Max, st.Mean, st.StdDev = &lo, &hi, &mean, &sd
	return st
}

// roundedTo6 compares the mean and standard deviation, which the tool
// rounds to 6 decimals, within that rounding.
var roundedTo6 = cmp.FilterPath(func(p cmp.Path) bool {
	s := p.String()
	return strings.HasSuffix(s, ".Mean") || strings.HasSuffix(s, ".StdDev")
}, cmpopts.EquateApprox(0, 1e-6))

func TestSensorStats(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []historyCase{
		{name: "chiller month, all sensors", asset: "Chiller 6", id: "Chiller 6",
			start: "2020-06-01", end: "2020-07-01", from: at(2020, 6, 1, 0, 0), to: at(2020, 7, 1, 0, 0)},
		{name: "chiller year, by suffix", asset: "chiller 9", id: "Chiller 9",
			start: "2020-01-01", end: "2021-01-01", from: at(2020, 1, 1, 0, 0), to: at(2021, 1, 1, 0, 0),
			sensors:     []string{"Tonnage", "Condenser Water Flow", "Chiller Efficiency"},
			wantSensors: []string{"Chiller 9 Tonnage", "Chiller 9 Condenser Water Flow", "Chiller 9 Chiller Efficiency"}},
		{name: "ahu week", asset: "CQPA AHU 2B", id: "CQPA AHU 2B",
			start: "2020-08-03", end: "2020-08-10", from: at(2020, 8, 3, 0, 0), to: at(2020, 8, 10, 0, 0)},
		{name: "ahu day, half-open", asset: "CQPA AHU 1", id: "CQPA AHU 1",
			start: "2020-02-28T23:45:00", end: "2020-03-01T00:00:00", from: at(2020, 2, 28, 23, 45), to: at(2020, 3, 1, 0, 0),
			sensors:     []string{"Zone Relative Humidity %", "cqpa ahu 1 supply air temperature"},
			wantSensors: []string{"CQPA AHU 1 Zone Relative Humidity %", "CQPA AHU 1 Supply Air Temperature"}},
		// Nearly constant columns: a one-pass variance loses them to
		// cancellation.
		{name: "setpoints and schedules over a day", asset: "Chiller 4", id: "Chiller 4",
			start: "2020-07-04", end: "2020-07-05", from: at(2020, 7, 4, 0, 0), to: at(2020, 7, 5, 0, 0),
			sensors:     []string{"Setpoint Temperature", "Schedule", "Run Status"},
			wantSensors: []string{"Chiller 4 Setpoint Temperature", "Chiller 4 Schedule", "Chiller 4 Run Status"}},
		{name: "one record", asset: "Chiller 3", id: "Chiller 3",
			start: "2020-05-05T10:15", end: "2020-05-05T10:30", from: at(2020, 5, 5, 10, 15), to: at(2020, 5, 5, 10, 30)},
		{name: "no records", asset: "Chiller 3", id: "Chiller 3",
			start: "2021-05-05", end: "2021-05-06", from: at(2021, 5, 5, 0, 0), to: at(2021, 5, 6, 0, 0), sensors: []string{"Tonnage"}, wantSensors: []string{"Chiller 3 Tonnage"}},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			s := rawSeries(t, c.id)
			want := statsOut{SiteName: "MAIN", AssetID: c.id, Start: c.from.Format(layout), End: c.to.Format(layout),
				TotalRecords: len(rawWindow(t, c.id, c.from, c.to, nil))}
			for _, name := range c.fullSensors(t) {
				want.Stats = append(want.Stats, rawStats(t, s, name, c.from, c.to))
			}
			args := c.args("")
			got := agentstest.Call[statsOut](t, context.Background(), reg, "iot.sensor_stats", args)
			if diff := cmp.Diff(want, got, roundedTo6); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Every way a call can fail says why, as a one-line structured error of
// the right kind.
func TestErrors(t *testing.T) {
	reg := agentstest.Registry(t)
	const (
		failed = tools.KindFailed
		badArg = tools.KindArguments
	)
	window := func(extra string) string {
		return `{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-02"` + extra + `}`
	}
	tests := []struct {
		tool, args, wantErr, wantKind string
		now                           time.Time
	}{
		{tool: "iot.sites", args: `{"site_name":"MAIN"}`, wantErr: "invalid arguments for iot.sites", wantKind: badArg},
		{tool: "iot.assets", args: `{"site_name":"NORTH"}`, wantErr: `unknown site "NORTH" (sites: MAIN)`, wantKind: failed},
		{tool: "iot.assets", args: `{}`, wantErr: "invalid arguments for iot.assets", wantKind: badArg},
		{tool: "iot.assets", args: `{"site_name":"MAIN","asset_class":"pump"}`, wantErr: `no asset class "pump" at site MAIN (classes: ahu, chiller)`, wantKind: failed},
		{tool: "iot.asset_detail", args: `{"site_name":"MAIN","asset_id":"Chiller 60"}`, wantErr: `unknown asset "Chiller 60" at site MAIN`, wantKind: failed},
		{tool: "iot.asset_detail", args: `{"site_name":"MAIN"}`, wantErr: "invalid arguments for iot.asset_detail", wantKind: badArg},
		{tool: "iot.sensors", args: `{"site_name":"South","asset_id":"Chiller 6"}`, wantErr: `unknown site "South"`, wantKind: failed},
		{tool: "iot.sensors", args: `{"site_name":"MAIN","asset_id":"AHU 1"}`, wantErr: `unknown asset "AHU 1" at site MAIN`, wantKind: failed},
		{tool: "iot.latest_reading", args: `{"site_name":"MAIN","asset_id":"Chiller 6","sensor":"Vibration"}`, wantErr: `asset Chiller 6 has no sensor "Vibration"`, wantKind: failed},
		{tool: "iot.latest_reading", args: `{"site_name":"MAIN","asset_id":"Chiller 6"}`, now: at(2019, 6, 1, 0, 0), wantErr: "Chiller 6 has no readings at or before 2019-06-01T00:00:00", wantKind: failed},
		{tool: "iot.latest_reading", args: `{"site_name":"MAIN","asset_id":"Chiller 6","sensors":["Tonnage"]}`, wantErr: "invalid arguments for iot.latest_reading", wantKind: badArg},
	}
	// The window tools share their checks.
	for _, tool := range []string{"iot.history", "iot.sensor_stats"} {
		tests = append(tests, []struct {
			tool, args, wantErr, wantKind string
			now                           time.Time
		}{
			{tool: tool, args: strings.Replace(window(``), "MAIN", "NORTH", 1), wantErr: `unknown site "NORTH"`, wantKind: failed},
			{tool: tool, args: strings.Replace(window(``), "Chiller 6", "Chiller 60", 1), wantErr: `unknown asset "Chiller 60" at site MAIN`, wantKind: failed},
			{tool: tool, args: window(`,"sensors":["Vibration"]`), wantErr: `asset Chiller 6 has no sensor "Vibration"`, wantKind: failed},
			{tool: tool, args: window(`,"sensors":["Tonnage",""]`), wantErr: `asset Chiller 6 has no sensor ""`, wantKind: failed},
			{tool: tool, args: strings.Replace(window(`,"sensors":["Duct Static Pressure"]`), "Chiller 6", "CQPA AHU 1", 1), wantErr: `asset CQPA AHU 1 has no sensor "Duct Static Pressure"`, wantKind: failed},
			{tool: tool, args: strings.Replace(window(``), `"2020-06-01"`, `"June 1st"`, 1), wantErr: `start: cannot read time "June 1st"`, wantKind: failed},
			{tool: tool, args: strings.Replace(window(``), `"2020-06-02"`, `"2020-13-02"`, 1), wantErr: `end: cannot read time "2020-13-02"`, wantKind: failed},
			{tool: tool, args: strings.Replace(window(``), `"2020-06-02"`, `"2020-06-01T00:00:00"`, 1), wantErr: "start 2020-06-01T00:00:00 is not before end 2020-06-01T00:00:00", wantKind: failed},
			{tool: tool, args: strings.Replace(window(``), `"2020-06-02"`, `"2020-05-02"`, 1), wantErr: "start 2020-06-01T00:00:00 is not before end 2020-05-02T00:00:00", wantKind: failed},
			{tool: tool, args: `{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01"}`, wantErr: "invalid arguments for " + tool, wantKind: badArg},
			{tool: tool, args: window(`,"sensors":"Tonnage"`), wantErr: "invalid arguments for " + tool, wantKind: badArg},
			{tool: tool, args: window(`,"sensor":["Tonnage"]`), wantErr: "invalid arguments for " + tool, wantKind: badArg},
			{tool: tool, args: `{"site_name":"MAIN",`, wantErr: "invalid arguments for " + tool + ": not JSON", wantKind: badArg},
		}...)
	}
	tests = append(tests, []struct {
		tool, args, wantErr, wantKind string
		now                           time.Time
	}{
		{tool: "iot.history", args: window(`,"limit":-1`), wantErr: "limit -1 out of range 1..1000", wantKind: failed},
		{tool: "iot.history", args: window(`,"limit":1001`), wantErr: "limit 1001 out of range 1..1000", wantKind: failed},
		{tool: "iot.history", args: window(`,"limit":2.5`), wantErr: "invalid arguments for iot.history", wantKind: badArg},
		{tool: "iot.history", args: window(`,"cursor":"abc"`), wantErr: `cursor "abc" does not belong to this query`, wantKind: failed},
		{tool: "iot.sensor_stats", args: window(`,"limit":10`), wantErr: "invalid arguments for iot.sensor_stats", wantKind: badArg},
	}...)
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.args, func(t *testing.T) {
			out, err := reg.Call(tools.WithEnv(context.Background(), tools.Env{Now: tt.now}), tt.tool, json.RawMessage(tt.args))
			if err == nil {
				t.Fatalf("no error; got %.300s", out)
			}
			var res struct{ Error, Kind string }
			if err := json.Unmarshal(tools.ErrorResult(err), &res); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Error, tt.wantErr) || res.Kind != tt.wantKind || strings.Contains(res.Error, "\n") {
				t.Errorf("error %q of kind %s, want %q of kind %s", res.Error, res.Kind, tt.wantErr, tt.wantKind)
			}
		})
	}
	// Limits at the edges are accepted.
	for _, limit := range []int{1, iot.MaxHistoryLimit} {
		if _, err := reg.Call(context.Background(), "iot.history", json.RawMessage(window(`,"limit":`+strings.TrimSpace(string(agentstest.Args(t, limit)))))); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
}

var errStore = errors.New("store down")

// failingStore is the dataset with one method failing.
type failingStore struct {
	iot.Store
	fail string
}

func (s failingStore) err(method string) error {
	if s.fail == method {
		return errStore
	}
	return nil
}

func (s failingStore) Sites(ctx context.Context) ([]fixtures.Site, error) {
	if err := s.err("Sites"); err != nil {
		return nil, err
	}
	return s.Store.Sites(ctx)
}

func (s failingStore) Assets(ctx context.Context) ([]fixtures.Asset, error) {
	if err := s.err("Assets"); err != nil {
		return nil, err
	}
	return s.Store.Assets(ctx)
}

func (s failingStore) SensorCatalog(ctx context.Context) ([]fixtures.SensorInfo, error) {
	if err := s.err("SensorCatalog"); err != nil {
		return nil, err
	}
	return s.Store.SensorCatalog(ctx)
}

func (s failingStore) History(ctx context.Context, id string, start, end time.Time, limit int) (*fixtures.Series, int, error) {
	if err := s.err("History"); err != nil {
		return nil, 0, err
	}
	return s.Store.History(ctx, id, start, end, limit)
}

func (s failingStore) Extent(ctx context.Context, id string) (time.Time, time.Time, bool, error) {
	if err := s.err("Extent"); err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	return s.Store.Extent(ctx, id)
}

func (s failingStore) Latest(ctx context.Context, id string, t time.Time) (*fixtures.Series, error) {
	if err := s.err("Latest"); err != nil {
		return nil, err
	}
	return s.Store.Latest(ctx, id, t)
}

// A failing store or output folder fails the call with its error, never
// with a half-made result.
func TestStoreErrors(t *testing.T) {
	store := agentstest.Store(t)
	asset := `{"site_name":"MAIN","asset_id":"Chiller 6"}`
	window := `{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01","end":"2020-06-03"}`
	calls := []struct {
		tool, args string
		methods    []string // the store methods it reads
	}{
		{"iot.sites", `{}`, []string{"Sites"}},
		{"iot.assets", `{"site_name":"MAIN"}`, []string{"Sites", "Assets"}},
		{"iot.asset_detail", asset, []string{"Sites", "Assets", "Extent"}},
		{"iot.sensors", asset, []string{"Sites", "Assets", "SensorCatalog"}},
		{"iot.history", window, []string{"Sites", "Assets", "History"}},
		{"iot.latest_reading", asset, []string{"Sites", "Assets", "Latest"}},
		{"iot.sensor_stats", window, []string{"Sites", "Assets", "History"}},
	}
	for _, c := range calls {
		for _, m := range c.methods {
			t.Run(c.tool+" "+m, func(t *testing.T) {
				reg := tools.NewRegistry(iot.Tools(failingStore{store, m})...)
				out, err := reg.Call(context.Background(), c.tool, json.RawMessage(c.args))
				if !errors.Is(err, errStore) {
					t.Errorf("err = %v, want %v; got %.200s", err, errStore, out)
				}
			})
		}
	}
	// An output folder that cannot be made: its path is a file.
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: notDir})
	reg := tools.NewRegistry(iot.Tools(store)...)
	for _, c := range []struct{ tool, args string }{{"iot.sensors", asset}, {"iot.history", window}} {
		if out, err := reg.Call(ctx, c.tool, json.RawMessage(c.args)); err == nil || !strings.Contains(err.Error(), "output folder") {
			t.Errorf("%s: err = %v, want the output folder's; got %.200s", c.tool, err, out)
		}
	}
}
