package wo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/wo"
	"github.com/assetops/assetops/fixtures"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The tests compute every expected answer from the generated tables with
// plain loops, never through the tools' own helpers, and compare it with
// what the tools return over the store built from the same tables.

// dataset is the generated data behind agentstest's store; generating it
// takes about a second, so once per test binary.
var dataset = sync.OnceValue(func() *fixtures.Dataset { return fixtures.Generate(fixtures.DefaultSeed) })

// errCase is a call that must fail with a message containing want; args
// errors (schema, unknown fields) must also be a *tools.ArgsError.
type errCase struct {
	name, tool, args, want string
	argsErr                bool
}

func checkErrors(t *testing.T, ctx context.Context, reg *tools.Registry, cases []errCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run("error/"+tt.name, func(t *testing.T) {
			out, err := reg.Call(ctx, tt.tool, json.RawMessage(tt.args))
			if err == nil {
				t.Fatalf("%s %s = %s, want an error containing %q", tt.tool, tt.args, out, tt.want)
			}
			if out != nil {
				t.Errorf("a failed call returned %s besides its error", out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s %s: error %q, want it to contain %q", tt.tool, tt.args, err, tt.want)
			}
			var ae *tools.ArgsError
			if got := errors.As(err, &ae); got != tt.argsErr {
				t.Errorf("%s %s: error %q is an ArgsError: %v, want %v", tt.tool, tt.args, err, got, tt.argsErr)
			}
			if errors.Is(err, tools.ErrInternal) {
				t.Errorf("%s %s: internal error %q", tt.tool, tt.args, err)
			}
		})
	}
}

// rangeArgs are the arguments of the tools that take equipment and dates.
type rangeArgs struct {
	EquipmentID string `json:"equipment_id"`
	StartDate   string `json:"start_date,omitempty"`
	EndDate     string `json:"end_date,omitempty"`
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// span is a case of equipment and dates, the equipment as a model may spell
// it.
type span struct {
	name, id, start, end string
}

// canonical is the equipment id as the dataset spells it.
func (s span) canonical() string { return strings.ToUpper(strings.TrimSpace(s.id)) }

func (s span) args() string { return toJSON(rangeArgs{s.id, s.start, s.end}) }

// spans cover whole years, a month, one day, the inclusive end day (the last
// CWC04009 order finished 2020-12-22T13:45), open starts and ends, the AHUs
// and empty results before and after the history.
var spans = []span{
	{"june 2020", "CWC04009", "2020-06-01", "2020-06-30"},
	{"case and space", " cwc04009 ", "2020-06-01", "2020-06-30"},
	{"year 2017", "CWC04013", "2017-01-01", "2017-12-31"},
	{"one day", "CWC04009", "2020-06-16", "2020-06-16"},
	{"end day included", "CWC04009", "2020-12-01", "2020-12-22"},
	{"end day before", "CWC04009", "2020-12-01", "2020-12-21"},
	{"open start", "CWC04006", "", "2011-12-31"},
	{"open end", "CWC04703", "2020-11-01", ""},
	{"open", "AHU0412B", "", ""},
	{"ahu 2020", "AHU04101", "2020-01-01", "2020-12-31"},
	{"unmonitored chiller", "CWC04701", "2016-03-01", "2018-02-28"},
	{"none before the history", "CWC04009", "2000-01-01", "2009-12-31"},
	{"none after the history", "CWC04014", "2021-01-01", ""},
}

// onDays says whether t falls on a day from start to end, both inclusive
// and open when empty, by comparing YYYY-MM-DD strings.
func onDays(t fixtures.LocalTime, start, end string) bool {
	day := t.Format("2006-01-02")
	return (start == "" || day >= start) && (end == "" || day <= end)
}

// ordersOf lists an equipment's work orders finished on the days, in the
// table's order (finish time, then id).
func ordersOf(equipment, start, end string) []fixtures.WorkOrder {
	out := []fixtures.WorkOrder{}
	for _, w := range dataset().WorkOrders {
		if w.EquipmentID == equipment && onDays(w.ActualFinish, start, end) {
			out = append(out, w)
		}
	}
	return out
}

// eventsOf lists an equipment's events on the days, in time order.
func eventsOf(equipment, start, end string) []fixtures.Event {
	out := []fixtures.Event{}
	for _, e := range dataset().Events {
		if e.EquipmentID == equipment && onDays(e.Time, start, end) {
			out = append(out, e)
		}
	}
	return out
}

func equipmentName(id string) string {
	for _, e := range dataset().Equipment {
		if e.ID == id {
			return e.Name
		}
	}
	panic("no equipment " + id)
}

// codeRow is the catalog row of a secondary code, or of a primary code's
// first secondary code when secondary is empty.
func codeRow(primary, secondary string) (fixtures.FailureCode, bool) {
	for _, c := range dataset().FailureCodes {
		if c.PrimaryCode == primary && (secondary == "" || c.SecondaryCode == secondary) {
			return c, true
		}
	}
	return fixtures.FailureCode{}, false
}

// The errors every equipment-and-dates tool gives.
func rangeErrors(tool string) []errCase {
	return []errCase{
		{name: tool + " unknown equipment", tool: tool, args: `{"equipment_id":"CWC09999"}`, want: `unknown equipment "CWC09999" (equipment: AHU04101, AHU0412B, CWC04006`},
		{name: tool + " empty equipment", tool: tool, args: `{"equipment_id":""}`, want: `unknown equipment ""`},
		{name: tool + " bad start", tool: tool, args: `{"equipment_id":"CWC04009","start_date":"06/01/2020"}`, want: `start_date: cannot read date "06/01/2020": want YYYY-MM-DD`},
		{name: tool + " bad end", tool: tool, args: `{"equipment_id":"CWC04009","end_date":"2020-02-30"}`, want: `end_date: cannot read date "2020-02-30"`},
		{name: tool + " time of day", tool: tool, args: `{"equipment_id":"CWC04009","start_date":"2020-06-01T00:00:00"}`, want: `start_date: cannot read date`},
		{name: tool + " start after end", tool: tool, args: `{"equipment_id":"CWC04009","start_date":"2020-07-01","end_date":"2020-06-30"}`, want: "start_date 2020-07-01 is after end_date 2020-06-30"},
		{name: tool + " no equipment", tool: tool, args: `{}`, want: "equipment_id", argsErr: true},
		{name: tool + " unknown field", tool: tool, args: `{"equipment_id":"CWC04009","from":"2020-06-01"}`, want: `unexpected additional properties ["from"]`, argsErr: true},
		{name: tool + " date not a string", tool: tool, args: `{"equipment_id":"CWC04009","start_date":20200601}`, want: "invalid arguments", argsErr: true},
		{name: tool + " not JSON", tool: tool, args: `{"equipment_id":`, want: "not JSON", argsErr: true},
	}
}

type workOrdersResult struct {
	EquipmentID   string               `json:"equipment_id"`
	EquipmentName string               `json:"equipment_name"`
	StartDate     string               `json:"start_date,omitempty"`
	EndDate       string               `json:"end_date,omitempty"`
	Total         int                  `json:"total"`
	Preventive    int                  `json:"preventive"`
	Corrective    int                  `json:"corrective"`
	WorkOrders    []fixtures.WorkOrder `json:"work_orders"`
}

func TestWorkOrders(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	kinds := []struct {
		tool string
		keep func(fixtures.WorkOrder) bool
	}{
		{"wo.get_work_orders", func(fixtures.WorkOrder) bool { return true }},
		{"wo.get_preventive_work_orders", func(w fixtures.WorkOrder) bool { return w.Preventive }},
		{"wo.get_corrective_work_orders", func(w fixtures.WorkOrder) bool { return !w.Preventive }},
	}
	for _, k := range kinds {
		for _, sp := range spans {
			t.Run(k.tool+"/"+sp.name, func(t *testing.T) {
				id := sp.canonical()
				want := workOrdersResult{EquipmentID: id, EquipmentName: equipmentName(id), StartDate: sp.start, EndDate: sp.end, WorkOrders: []fixtures.WorkOrder{}}
				for _, w := range ordersOf(id, sp.start, sp.end) {
					if !k.keep(w) {
						continue
					}
					want.WorkOrders = append(want.WorkOrders, w)
					if w.Preventive {
						want.Preventive++
					} else {
						want.Corrective++
					}
				}
				want.Total = len(want.WorkOrders)
				got := agentstest.Call[workOrdersResult](t, ctx, reg, k.tool, sp.args())
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %s (-want +got):\n%s", k.tool, sp.args(), diff)
				}
			})
		}
		checkErrors(t, ctx, reg, rangeErrors(k.tool))
	}
	// The end day is inclusive: its order finished in the afternoon.
	got := agentstest.Call[workOrdersResult](t, ctx, reg, "wo.get_work_orders", `{"equipment_id":"CWC04009","start_date":"2020-12-22","end_date":"2020-12-22"}`)
	if got.Total != 1 || got.WorkOrders[0].ActualFinish.String() != "2020-12-22T13:45:00" {
		t.Errorf("CWC04009 on 2020-12-22: %+v, want its order finished at 13:45", got)
	}
}

type eventsResult struct {
	EquipmentID   string           `json:"equipment_id"`
	EquipmentName string           `json:"equipment_name"`
	StartDate     string           `json:"start_date,omitempty"`
	EndDate       string           `json:"end_date,omitempty"`
	EventGroup    string           `json:"event_group,omitempty"`
	Total         int              `json:"total"`
	Events        []fixtures.Event `json:"events"`
}

func TestGetEvents(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	groups := []struct{ given, want string }{
		{"", ""}, {"ALERT", "ALERT"}, {"anomaly", "ANOMALY"}, {"work order", "WORK_ORDER"}, {"Work_Order", "WORK_ORDER"},
	}
	for _, g := range groups {
		for _, sp := range spans {
			t.Run(sp.name+"/"+g.given, func(t *testing.T) {
				id := sp.canonical()
				args := toJSON(struct {
					rangeArgs
					EventGroup string `json:"event_group,omitempty"`
				}{rangeArgs{sp.id, sp.start, sp.end}, g.given})
				want := eventsResult{EquipmentID: id, EquipmentName: equipmentName(id), StartDate: sp.start, EndDate: sp.end, EventGroup: g.want, Events: []fixtures.Event{}}
				for _, e := range eventsOf(id, sp.start, sp.end) {
					if g.want == "" || e.Group == g.want {
						want.Events = append(want.Events, e)
					}
				}
				want.Total = len(want.Events)
				got := agentstest.Call[eventsResult](t, ctx, reg, "wo.get_events", args)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("wo.get_events %s (-want +got):\n%s", args, diff)
				}
			})
		}
	}
	checkErrors(t, ctx, reg, append(rangeErrors("wo.get_events"),
		errCase{name: "unknown group", tool: "wo.get_events", args: `{"equipment_id":"CWC04009","event_group":"FAULT"}`, want: `unknown event group "FAULT" (groups: WORK_ORDER, ALERT, ANOMALY)`}))
}

type typeCount struct {
	Group       string `json:"event_group"`
	Type        string `json:"event_type"`
	Description string `json:"description"`
	Count       int    `json:"count"`
}

type summaryResult struct {
	EquipmentID   string         `json:"equipment_id"`
	EquipmentName string         `json:"equipment_name"`
	StartDate     string         `json:"start_date,omitempty"`
	EndDate       string         `json:"end_date,omitempty"`
	Total         int            `json:"total"`
	ByGroup       map[string]int `json:"by_group"`
	ByType        []typeCount    `json:"by_type"`
}

func TestSummarizeEvents(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	for _, sp := range spans {
		t.Run(sp.name, func(t *testing.T) {
			id := sp.canonical()
			evs := eventsOf(id, sp.start, sp.end)
			want := summaryResult{EquipmentID: id, EquipmentName: equipmentName(id), StartDate: sp.start, EndDate: sp.end,
				Total: len(evs), ByGroup: map[string]int{"WORK_ORDER": 0, "ALERT": 0, "ANOMALY": 0}, ByType: []typeCount{}}
			for _, e := range evs {
				want.ByGroup[e.Group]++
				found := false
				for i := range want.ByType {
					if want.ByType[i].Group == e.Group && want.ByType[i].Type == e.Type {
						want.ByType[i].Count++
						found = true
					}
				}
				if !found {
					// A type is described by its first event: anomaly
					// descriptions carry the bound of the moment.
					want.ByType = append(want.ByType, typeCount{e.Group, e.Type, e.Description, 1})
				}
			}
			// Most frequent first, then by group and type.
			sort.Slice(want.ByType, func(i, j int) bool {
				a, b := want.ByType[i], want.ByType[j]
				if a.Count != b.Count {
					return a.Count > b.Count
				}
				return a.Group+"\x00"+a.Type < b.Group+"\x00"+b.Type
			})
			got := agentstest.Call[summaryResult](t, ctx, reg, "wo.summarize_events", sp.args())
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("wo.summarize_events %s (-want +got):\n%s", sp.args(), diff)
			}
		})
	}
	// Scenario 405's question on the generated data: the groups add up.
	got := agentstest.Call[summaryResult](t, ctx, reg, "wo.summarize_events", `{"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30"}`)
	if n := got.ByGroup["WORK_ORDER"] + got.ByGroup["ALERT"] + got.ByGroup["ANOMALY"]; n != got.Total || got.ByGroup["WORK_ORDER"] != 3 {
		t.Errorf("CWC04009 in June 2020: %+v", got)
	}
	checkErrors(t, ctx, reg, rangeErrors("wo.summarize_events"))
}

type dayCount struct {
	Date   string         `json:"date"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

type dailyResult struct {
	EquipmentID    string     `json:"equipment_id"`
	StartDate      string     `json:"start_date,omitempty"`
	EndDate        string     `json:"end_date,omitempty"`
	EventGroups    []string   `json:"event_groups"`
	DaysWithEvents int        `json:"days_with_events"`
	TotalEvents    int        `json:"total_events"`
	Days           []dayCount `json:"days"`
}

func TestDailyEventCounts(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	all := []string{"WORK_ORDER", "ALERT", "ANOMALY"}
	selections := []struct {
		given, want []string // want in the tool's canonical order
	}{
		{nil, all},
		{[]string{"ALERT", "ANOMALY"}, []string{"ALERT", "ANOMALY"}},
		{[]string{"anomaly", "alert", "Alert"}, []string{"ALERT", "ANOMALY"}},
		{[]string{"work order"}, []string{"WORK_ORDER"}},
		// A blank entry names no group: all, or the others.
		{[]string{""}, all},
		{[]string{"", "ALERT"}, []string{"ALERT"}},
	}
	for _, sel := range selections {
		for _, sp := range spans {
			t.Run(fmt.Sprintf("%s/%v", sp.name, sel.given), func(t *testing.T) {
				id := sp.canonical()
				args := toJSON(struct {
					rangeArgs
					EventGroups []string `json:"event_groups,omitempty"`
				}{rangeArgs{sp.id, sp.start, sp.end}, sel.given})
				want := dailyResult{EquipmentID: id, StartDate: sp.start, EndDate: sp.end, EventGroups: sel.want, Days: []dayCount{}}
				for _, e := range eventsOf(id, sp.start, sp.end) {
					if !slices.Contains(sel.want, e.Group) {
						continue
					}
					day := e.Time.Format("2006-01-02")
					if n := len(want.Days); n == 0 || want.Days[n-1].Date != day {
						want.Days = append(want.Days, dayCount{Date: day, Counts: map[string]int{}})
					}
					want.Days[len(want.Days)-1].Counts[e.Group]++
					want.Days[len(want.Days)-1].Total++
					want.TotalEvents++
				}
				want.DaysWithEvents = len(want.Days)
				got := agentstest.Call[dailyResult](t, ctx, reg, "wo.daily_event_counts", args)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("wo.daily_event_counts %s (-want +got):\n%s", args, diff)
				}
			})
		}
	}
	checkErrors(t, ctx, reg, append(rangeErrors("wo.daily_event_counts"),
		errCase{name: "unknown group", tool: "wo.daily_event_counts", args: `{"equipment_id":"CWC04009","event_groups":["ALERT","ALARM"]}`, want: `unknown event group "ALARM"`},
		errCase{name: "groups not a list", tool: "wo.daily_event_counts", args: `{"equipment_id":"CWC04009","event_groups":"ALERT"}`, want: "invalid arguments", argsErr: true}))
}

type codesResult struct {
	Total        int                    `json:"total"`
	FailureCodes []fixtures.FailureCode `json:"failure_codes"`
}

func TestGetFailureCodes(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	tests := []struct {
		name, args, primary, category string // primary and category as in the catalog
	}{
		{"all", `{}`, "", ""},
		{"primary code", `{"primary_code":"m013"}`, "M013", ""},
		{"primary code with space", `{"primary_code":" E006 "}`, "E006", ""},
		{"category", `{"category":"electrical failures"}`, "", "Electrical Failures"},
		{"both", `{"primary_code":"CS001","category":"Control System Failures"}`, "CS001", "Control System Failures"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := codesResult{FailureCodes: []fixtures.FailureCode{}}
			for _, c := range dataset().FailureCodes {
				if (tt.primary == "" || c.PrimaryCode == tt.primary) && (tt.category == "" || c.Category == tt.category) {
					want.FailureCodes = append(want.FailureCodes, c)
				}
			}
			want.Total = len(want.FailureCodes)
			if want.Total == 0 {
				t.Fatal("the case selects no code")
			}
			got := agentstest.Call[codesResult](t, ctx, reg, "wo.get_failure_codes", tt.args)
			// The catalog's order is the store's: compare as sets.
			bySecondary := cmpopts.SortSlices(func(a, b fixtures.FailureCode) bool { return a.SecondaryCode < b.SecondaryCode })
			if diff := cmp.Diff(want, got, bySecondary); diff != "" {
				t.Errorf("wo.get_failure_codes %s (-want +got):\n%s", tt.args, diff)
			}
		})
	}
	const tool = "wo.get_failure_codes"
	checkErrors(t, ctx, reg, []errCase{
		{name: "unknown primary code", tool: tool, args: `{"primary_code":"X999"}`, want: `no failure code matches primary code "X999", category ""`},
		{name: "unknown category", tool: tool, args: `{"category":"Nope"}`, want: `no failure code matches primary code "", category "Nope"`},
		{name: "code of another category", tool: tool, args: `{"primary_code":"M013","category":"Electrical Failures"}`, want: "no failure code matches"},
		{name: "unknown field", tool: tool, args: `{"code":"M013"}`, want: `unexpected additional properties ["code"]`, argsErr: true},
	})
}

type distEntry struct {
	Category                 string `json:"category"`
	PrimaryCode              string `json:"primary_code"`
	PrimaryCodeDescription   string `json:"primary_code_description"`
	SecondaryCode            string `json:"secondary_code"`
	SecondaryCodeDescription string `json:"secondary_code_description"`
	Count                    int    `json:"count"`
}

type distributionResult struct {
	EquipmentID     string      `json:"equipment_id"`
	StartDate       string      `json:"start_date,omitempty"`
	EndDate         string      `json:"end_date,omitempty"`
	TotalWorkOrders int         `json:"total_work_orders"`
	Distribution    []distEntry `json:"distribution"`
}

func TestWorkOrderDistribution(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	for _, sp := range spans {
		t.Run(sp.name, func(t *testing.T) {
			id := sp.canonical()
			orders := ordersOf(id, sp.start, sp.end)
			want := distributionResult{EquipmentID: id, StartDate: sp.start, EndDate: sp.end, TotalWorkOrders: len(orders), Distribution: []distEntry{}}
			counts := map[string]int{}
			for _, w := range orders {
				counts[w.SecondaryCode]++
			}
			for secondary, n := range counts {
				var primary string
				for _, w := range orders {
					if w.SecondaryCode == secondary {
						primary = w.PrimaryCode
					}
				}
				c, ok := codeRow(primary, secondary)
				if !ok {
					t.Fatalf("the generated data has a code not in the catalog: %s %s", primary, secondary)
				}
				want.Distribution = append(want.Distribution, distEntry{c.Category, c.PrimaryCode, c.PrimaryCodeDescription, c.SecondaryCode, c.SecondaryCodeDescription, n})
			}
			sort.Slice(want.Distribution, func(i, j int) bool {
				a, b := want.Distribution[i], want.Distribution[j]
				if a.Count != b.Count {
					return a.Count > b.Count
				}
				return a.SecondaryCode < b.SecondaryCode
			})
			got := agentstest.Call[distributionResult](t, ctx, reg, "wo.get_work_order_distribution", sp.args())
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("wo.get_work_order_distribution %s (-want +got):\n%s", sp.args(), diff)
			}
		})
	}
	checkErrors(t, ctx, reg, rangeErrors("wo.get_work_order_distribution"))
}

type prediction struct {
	Category               string  `json:"category"`
	PrimaryCode            string  `json:"primary_code"`
	PrimaryCodeDescription string  `json:"primary_code_description"`
	Probability            float64 `json:"probability"`
	Count                  int     `json:"count"`
}

type lastOrder struct {
	WorkOrderID  string `json:"wo_id"`
	PrimaryCode  string `json:"primary_code"`
	Description  string `json:"primary_code_description"`
	ActualFinish string `json:"actual_finish"`
}

type predictResult struct {
	EquipmentID   string       `json:"equipment_id"`
	StartDate     string       `json:"start_date,omitempty"`
	EndDate       string       `json:"end_date"`
	HistoryLength int          `json:"history_length"`
	LastWorkOrder lastOrder    `json:"last_work_order"`
	Method        string       `json:"method"`
	Predictions   []prediction `json:"predictions"`
}

// approx compares the named float field to within margin: the tools
// round probabilities to 4 decimals and hours to 2.
func approx(field string, margin float64) cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		return strings.HasSuffix(p.GoString(), "."+field) || strings.HasSuffix(p.GoString(), "."+field+")")
	}, cmpopts.EquateApprox(0, margin))
}

var roughly = approx("Probability", 0.5e-4+1e-12)

func TestPredictNextWorkOrder(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []struct {
		name     string
		now      time.Time // zero: no env, tools.DefaultNow
		sp       span
		fallback bool // the last code was never followed: frequencies
	}{
		{"whole history", time.Time{}, span{id: "CWC04009"}, false},
		{"until an end day", time.Time{}, span{id: "CWC04006", end: "2018-06-30"}, false},
		{"in a range", time.Time{}, span{id: "cwc04703", start: "2015-01-01", end: "2019-12-31"}, false},
		// Its last code, M018, is its only one of that code.
		{"ahu", time.Time{}, span{id: "AHU04101"}, true},
		// Now at noon of a day whose order finished at 09:00: the history
		// ends now, so it holds that order and says so in end_date.
		{"until now", time.Date(2020, 6, 16, 12, 0, 0, 0, time.UTC), span{id: "CWC04009"}, false},
		{"until now, in a range", time.Date(2018, 3, 1, 0, 0, 0, 0, time.UTC), span{id: "CWC04013", start: "2016-01-01"}, false},
		{"an end day after now", time.Date(2018, 3, 1, 0, 0, 0, 0, time.UTC), span{id: "CWC04013", end: "2019-12-31"}, false},
		{"one order", time.Time{}, span{id: "CWC04009", start: "2020-06-16", end: "2020-06-16"}, true},
		{"two orders of a day", time.Time{}, span{id: "CWC04009", start: "2020-06-08", end: "2020-06-08"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			now := tools.DefaultNow
			if !tt.now.IsZero() {
				now = tt.now
				ctx = tools.WithEnv(ctx, tools.Env{Now: now})
			}
			id := tt.sp.canonical()
			// The history: finished in the days, and before now when no
			// end day is given.
			var hist []fixtures.WorkOrder
			for _, w := range ordersOf(id, tt.sp.start, tt.sp.end) {
				if tt.sp.end != "" || w.ActualFinish.Before(now) {
					hist = append(hist, w)
				}
			}
			if len(hist) == 0 {
				t.Fatal("the case has no history")
			}
			last := hist[len(hist)-1]
			want := predictResult{EquipmentID: id, StartDate: tt.sp.start, EndDate: tt.sp.end, HistoryLength: len(hist),
				LastWorkOrder: lastOrder{last.ID, last.PrimaryCode, last.PrimaryCodeDescription, last.ActualFinish.String()},
				Method:        "first-order Markov chain: the codes that followed " + last.PrimaryCode}
			if want.EndDate == "" { // now's day, or the day before at midnight
				want.EndDate = now.Format("2006-01-02")
				if now.Hour() == 0 && now.Minute() == 0 && now.Second() == 0 {
					want.EndDate = now.AddDate(0, 0, -1).Format("2006-01-02")
				}
			}
			// Transition counts out of the last order's code.
			counts := map[string]int{}
			for i := 1; i < len(hist); i++ {
				if hist[i-1].PrimaryCode == last.PrimaryCode {
					counts[hist[i].PrimaryCode]++
				}
			}
			if (len(counts) == 0) != tt.fallback {
				t.Fatalf("the case falls back: %v, want %v", len(counts) == 0, tt.fallback)
			}
			if len(counts) == 0 {
				want.Method = last.PrimaryCode + " was never followed by another order; frequencies of all codes"
				for _, w := range hist {
					counts[w.PrimaryCode]++
				}
			}
			total := 0
			for _, n := range counts {
				total += n
			}
			for code, n := range counts {
				c, _ := codeRow(code, "")
				want.Predictions = append(want.Predictions, prediction{c.Category, code, c.PrimaryCodeDescription, float64(n) / float64(total), n})
			}
			sort.Slice(want.Predictions, func(i, j int) bool {
				a, b := want.Predictions[i], want.Predictions[j]
				return a.Count > b.Count || a.Count == b.Count && a.PrimaryCode < b.PrimaryCode
			})
			args := tt.sp.args()
			got := agentstest.Call[predictResult](t, ctx, reg, "wo.predict_next_work_order", args)
			if diff := cmp.Diff(want, got, roughly); diff != "" {
				t.Errorf("wo.predict_next_work_order %s (-want +got):\n%s", args, diff)
			}
			sum := 0.0
			for _, p := range got.Predictions {
				sum += p.Probability
			}
			if math.Abs(sum-1) > 1e-3 {
				t.Errorf("probabilities add up to %v", sum)
			}
		})
	}
	const tool = "wo.predict_next_work_order"
	ctx := tools.WithEnv(context.Background(), tools.Env{Now: time.Date(2018, 3, 1, 0, 0, 0, 0, time.UTC)})
	checkErrors(t, ctx, reg, append(rangeErrors(tool),
		errCase{name: "no history", tool: tool, args: `{"equipment_id":"CWC04009","start_date":"2009-01-01","end_date":"2009-12-31"}`,
			want: "CWC04009 has no work orders finished from 2009-01-01 to 2009-12-31 to learn from"},
		errCase{name: "no history until now", tool: tool, args: `{"equipment_id":"CWC04009","start_date":"2018-02-28"}`,
			want: "CWC04009 has no work orders finished from 2018-02-28 to 2018-02-28 to learn from"},
		errCase{name: "start after now", tool: tool, args: `{"equipment_id":"CWC04009","start_date":"2018-03-02"}`, want: "start_date 2018-03-02 is after 2018-02-28: without end_date the range ends at the run's clock"}))
}

type transition struct {
	Transition                string   `json:"transition"`
	Count                     int      `json:"count"`
	Probability               float64  `json:"probability"`
	AverageHoursToMaintenance *float64 `json:"average_hours_to_maintenance,omitempty"`
}

type alertResult struct {
	EquipmentID         string       `json:"equipment_id"`
	RuleID              string       `json:"rule_id"`
	RuleName            string       `json:"rule_name"`
	StartDate           string       `json:"start_date,omitempty"`
	EndDate             string       `json:"end_date,omitempty"`
	MaxDays             int          `json:"max_days"`
	TotalAlertsAnalyzed int          `json:"total_alerts_analyzed"`
	Transitions         []transition `json:"transitions"`
}

func TestAnalyzeAlertToFailure(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	tests := []struct {
		name    string
		sp      span
		rule    string // as given
		maxDays int    // as given
	}{
		{"whole history", span{id: "CWC04009"}, "RUL0018", 0},
		{"delta t low in 2020", span{id: "CWC04703", start: "2020-01-01", end: "2020-12-31"}, "RUL0014", 0},
		{"a week", span{id: "cwc04006"}, " rul0012 ", 7},
		{"a day", span{id: "CWC04006"}, "RUL0012", 1},
		{"a year", span{id: "CWC04703"}, "RUL0014", 365},
		// Follow-ups may finish after the end day.
		{"follow-ups after the end", span{id: "CWC04009", start: "2020-05-01", end: "2020-05-31"}, "RUL0014", 0},
		{"ahu", span{id: "AHU0412B"}, "RUL0104", 0},
		{"a rule that never fired here", span{id: "CWC04009"}, "RUL0017", 0},
		{"no alerts in the days", span{id: "CWC04009", start: "2019-01-01", end: "2019-12-31"}, "RUL0018", 0},
	}
	rules := dataset().AlertRules
	afterEnd := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.sp.canonical()
			maxDays := tt.maxDays
			if maxDays == 0 {
				maxDays = 30
			}
			var rule fixtures.AlertRule
			for _, r := range rules {
				if r.ID == strings.ToUpper(strings.TrimSpace(tt.rule)) {
					rule = r
				}
			}
			want := alertResult{EquipmentID: id, RuleID: rule.ID, RuleName: rule.Name, StartDate: tt.sp.start, EndDate: tt.sp.end,
				MaxDays: maxDays, Transitions: []transition{}}
			counts, hours := map[string]int{}, map[string]float64{}
			evs := eventsOf(id, "", "")
			for i, e := range evs {
				if e.Group != "ALERT" || e.Type != rule.ID || !onDays(e.Time, tt.sp.start, tt.sp.end) {
					continue
				}
				want.TotalAlertsAnalyzed++
				key := "No Maintenance"
				for _, f := range evs[i+1:] {
					if f.Group != "WORK_ORDER" {
						continue
					}
					if h := f.Time.Sub(e.Time.Time).Hours(); h <= float64(24*maxDays) {
						key = "WORK_ORDER " + f.Type
						hours[key] += h
						if !onDays(f.Time, "", tt.sp.end) {
							afterEnd++
						}
					}
					break
				}
				counts[key]++
			}
			for k, n := range counts {
				tr := transition{Transition: k, Count: n, Probability: float64(n) / float64(want.TotalAlertsAnalyzed)}
				if k != "No Maintenance" {
					h := hours[k] / float64(n)
					tr.AverageHoursToMaintenance = &h
				}
				want.Transitions = append(want.Transitions, tr)
			}
			sort.Slice(want.Transitions, func(i, j int) bool {
				a, b := want.Transitions[i], want.Transitions[j]
				return a.Count > b.Count || a.Count == b.Count && a.Transition < b.Transition
			})
			args := toJSON(struct {
				rangeArgs
				RuleID  string `json:"rule_id"`
				MaxDays int    `json:"max_days,omitempty"`
			}{rangeArgs{tt.sp.id, tt.sp.start, tt.sp.end}, tt.rule, tt.maxDays})
			got := agentstest.Call[alertResult](t, ctx, reg, "wo.analyze_alert_to_failure", args)
			if diff := cmp.Diff(want, got, roughly, approx("AverageHoursToMaintenance", 0.005+1e-9)); diff != "" {
				t.Errorf("wo.analyze_alert_to_failure %s (-want +got):\n%s", args, diff)
			}
		})
	}
	if afterEnd == 0 {
		t.Error("no case has a follow-up after its end day")
	}
	const tool = "wo.analyze_alert_to_failure"
	checkErrors(t, ctx, reg, []errCase{
		{name: "unknown rule", tool: tool, args: `{"equipment_id":"CWC04009","rule_id":"RUL9999"}`, want: `unknown alert rule "RUL9999" (rules: RUL0012, RUL0013`},
		{name: "no rule", tool: tool, args: `{"equipment_id":"CWC04009"}`, want: "rule_id", argsErr: true},
		{name: "negative max_days", tool: tool, args: `{"equipment_id":"CWC04009","rule_id":"RUL0018","max_days":-1}`, want: "max_days -1 out of range 1..3650"},
		{name: "huge max_days", tool: tool, args: `{"equipment_id":"CWC04009","rule_id":"RUL0018","max_days":3651}`, want: "max_days 3651 out of range 1..3650"},
		{name: "unknown equipment", tool: tool, args: `{"equipment_id":"CWC09999","rule_id":"RUL0018"}`, want: `unknown equipment "CWC09999"`},
		{name: "bad end", tool: tool, args: `{"equipment_id":"CWC04009","rule_id":"RUL0018","end_date":"2020-13-01"}`, want: `end_date: cannot read date "2020-13-01"`},
		{name: "start after end", tool: tool, args: `{"equipment_id":"CWC04009","rule_id":"RUL0018","start_date":"2020-02-01","end_date":"2020-01-31"}`, want: "is after end_date"},
	})
}

type recommendation struct {
	PrimaryCode            string   `json:"primary_code"`
	PrimaryCodeDescription string   `json:"primary_code_description"`
	Category               string   `json:"category"`
	PastOnEquipment        int      `json:"past_work_orders_on_equipment"`
	PastOverall            int      `json:"past_work_orders_overall"`
	TypicalCollection      string   `json:"typical_collection,omitempty"`
	MedianDurationHours    float64  `json:"median_duration_hours,omitempty"`
	MedianLaborHours       float64  `json:"median_labor_hours,omitempty"`
	Examples               []string `json:"examples"`
}

type recommendResult struct {
	EquipmentID     string           `json:"equipment_id,omitempty"`
	Trigger         string           `json:"trigger"`
	Recommendations []recommendation `json:"recommendations"`
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func TestRecommendWorkOrders(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	d := dataset()
	tests := []struct {
		name, args, equipment, trigger string
		codes                          []string
	}{
		{"rule", `{"rule_id":"RUL0018","equipment_id":"CWC04009"}`, "CWC04009", "alert rule RUL0018 (Chiller - Evaporator Approach High)", nil},
		{"rule, no equipment", `{"rule_id":" rul0015 "}`, "", "alert rule RUL0015 (Chiller - Efficiency)", nil},
		{"ahu rule", `{"rule_id":"RUL0104","equipment_id":"ahu0412b"}`, "AHU0412B", "alert rule RUL0104 (AHU - Duct Static Pressure Low)", nil},
		{"kpi", `{"kpi":"efficiency","anomaly_type":"high","equipment_id":"CWC04703"}`, "CWC04703", "High anomaly of KPI Efficiency", []string{"M013", "M012", "L003"}},
		{"kpi, no equipment", `{"kpi":"Evaporator Approach","anomaly_type":"Low"}`, "", "Low anomaly of KPI Evaporator Approach", []string{"CS001"}},
		{"kpi on another class", `{"kpi":"Cooling Load","anomaly_type":" HIGH ","equipment_id":"AHU04101"}`, "AHU04101", "High anomaly of KPI Cooling Load", []string{"EX001", "H001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes := tt.codes
			if codes == nil { // a rule: its codes
				for _, r := range d.AlertRules {
					if strings.Contains(tt.trigger, r.ID) {
						codes = r.PrimaryCodes
					}
				}
			}
			want := recommendResult{EquipmentID: tt.equipment, Trigger: tt.trigger, Recommendations: []recommendation{}}
			for _, code := range codes {
				c, _ := codeRow(code, "")
				r := recommendation{PrimaryCode: code, PrimaryCodeDescription: c.PrimaryCodeDescription, Category: c.Category, Examples: []string{}}
				var durations, labor []float64
				collections := map[string]int{}
				for _, w := range d.WorkOrders { // by equipment and finish time
					if w.PrimaryCode != code {
						continue
					}
					r.PastOverall++
					durations, labor = append(durations, w.DurationHours), append(labor, w.LaborHours)
					collections[w.Collection]++
					if w.EquipmentID == tt.equipment {
						r.PastOnEquipment++
						if len(r.Examples) < 3 { // the earliest three
							r.Examples = append(r.Examples, w.ID)
						}
					}
				}
				r.MedianDurationHours, r.MedianLaborHours = median(durations), median(labor)
				for coll, n := range collections { // the most frequent; the first by name on a tie
					if best := collections[r.TypicalCollection]; n > best || n == best && coll < r.TypicalCollection {
						r.TypicalCollection = coll
					}
				}
				want.Recommendations = append(want.Recommendations, r)
			}
			got := agentstest.Call[recommendResult](t, ctx, reg, "wo.recommend_work_orders", tt.args)
			// Codes of equal standing come in the store's order of the
			// mappings: compare as sets, then check the ranking.
			byCode := cmpopts.SortSlices(func(a, b recommendation) bool { return a.PrimaryCode < b.PrimaryCode })
			if diff := cmp.Diff(want, got, byCode); diff != "" {
				t.Errorf("wo.recommend_work_orders %s (-want +got):\n%s", tt.args, diff)
			}
			for i := 1; i < len(got.Recommendations); i++ {
				a, b := got.Recommendations[i-1], got.Recommendations[i]
				if a.PastOnEquipment < b.PastOnEquipment || a.PastOnEquipment == b.PastOnEquipment && a.PastOverall < b.PastOverall {
					t.Errorf("%s ranked before %s: %+v, %+v", a.PrimaryCode, b.PrimaryCode, a, b)
				}
			}
		})
	}
	const tool = "wo.recommend_work_orders"
	checkErrors(t, ctx, reg, []errCase{
		{name: "rule and kpi", tool: tool, args: `{"rule_id":"RUL0018","kpi":"Efficiency","anomaly_type":"High"}`, want: "give rule_id or kpi, not both"},
		{name: "neither", tool: tool, args: `{"equipment_id":"CWC04009"}`, want: "give rule_id, or kpi with anomaly_type"},
		{name: "kpi without type", tool: tool, args: `{"kpi":"Efficiency"}`, want: `anomaly_type "": want High or Low`},
		{name: "kpi with a bad type", tool: tool, args: `{"kpi":"Efficiency","anomaly_type":"Medium"}`, want: `anomaly_type "Medium": want High or Low`},
		{name: "unknown kpi", tool: tool, args: `{"kpi":"Vibration","anomaly_type":"High"}`, want: `no failure codes for a High anomaly of KPI "Vibration" (KPIs: Cooling Load, Delta Setpoint`},
		{name: "unknown rule", tool: tool, args: `{"rule_id":"RUL0020"}`, want: `unknown alert rule "RUL0020"`},
		{name: "unknown equipment", tool: tool, args: `{"rule_id":"RUL0018","equipment_id":"Chiller 9"}`, want: `unknown equipment "Chiller 9"`},
		{name: "unknown field", tool: tool, args: `{"rule":"RUL0018"}`, want: `unexpected additional properties ["rule"]`, argsErr: true},
	})
}

type bundle struct {
	Size         int      `json:"size"`
	Start        string   `json:"start"`
	End          string   `json:"end"`
	WorkOrders   []string `json:"work_orders"`
	PrimaryCodes []string `json:"primary_codes"`
}

type bundleResult struct {
	EquipmentID     string   `json:"equipment_id"`
	StartDate       string   `json:"start_date,omitempty"`
	EndDate         string   `json:"end_date,omitempty"`
	WindowDays      int      `json:"window_days"`
	MinSize         int      `json:"min_size"`
	TotalCorrective int      `json:"total_corrective"`
	Bundles         []bundle `json:"bundles"`
}

// wantBundles groups an equipment's corrective orders: a new bundle starts
// when an order finished more than window days after the one before.
func wantBundles(sp span, window, minSize int) bundleResult {
	out := bundleResult{EquipmentID: sp.canonical(), StartDate: sp.start, EndDate: sp.end, WindowDays: window, MinSize: minSize, Bundles: []bundle{}}
	var groups [][]fixtures.WorkOrder
	for _, w := range ordersOf(sp.canonical(), sp.start, sp.end) {
		if w.Preventive {
			continue
		}
		out.TotalCorrective++
		if n := len(groups); n > 0 && w.ActualFinish.Sub(groups[n-1][len(groups[n-1])-1].ActualFinish.Time).Hours() <= 24*float64(window) {
			groups[n-1] = append(groups[n-1], w)
		} else {
			groups = append(groups, []fixtures.WorkOrder{w})
		}
	}
	for _, g := range groups {
		if len(g) < minSize {
			continue
		}
		b := bundle{Size: len(g), Start: g[0].ActualFinish.String(), End: g[len(g)-1].ActualFinish.String(), PrimaryCodes: []string{}}
		for _, w := range g {
			b.WorkOrders = append(b.WorkOrders, w.ID)
			if !slices.Contains(b.PrimaryCodes, w.PrimaryCode) {
				b.PrimaryCodes = append(b.PrimaryCodes, w.PrimaryCode)
			}
		}
		slices.Sort(b.PrimaryCodes)
		out.Bundles = append(out.Bundles, b)
	}
	return out
}

func TestBundleCorrectiveWorkOrders(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	tests := []struct {
		name            string
		sp              span
		window, minSize int // as given; 0: default
	}{
		{"scenario 424's question", span{id: "CWC04009", start: "2017-01-01", end: "2019-12-31"}, 0, 0},
		{"wider, larger", span{id: "cwc04009"}, 30, 3},
		{"a day apart", span{id: "CWC04006", start: "2015-01-01", end: "2020-12-31"}, 1, 0},
		{"every order", span{id: "CWC04703"}, 0, 1},
		{"ahu", span{id: "AHU04101", end: "2019-12-31"}, 60, 0},
		// Longer than a time.Duration holds in days: one bundle.
		{"huge window", span{id: "CWC04014"}, 200000, 0},
		{"no orders", span{id: "CWC04009", start: "2021-01-01"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			window, minSize := tt.window, tt.minSize
			if window == 0 {
				window = 14
			}
			if minSize == 0 {
				minSize = 2
			}
			want := wantBundles(tt.sp, window, minSize)
			args := toJSON(struct {
				rangeArgs
				WindowDays int `json:"window_days,omitempty"`
				MinSize    int `json:"min_size,omitempty"`
			}{rangeArgs{tt.sp.id, tt.sp.start, tt.sp.end}, tt.window, tt.minSize})
			got := agentstest.Call[bundleResult](t, ctx, reg, "wo.bundle_corrective_work_orders", args)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("wo.bundle_corrective_work_orders %s (-want +got):\n%s", args, diff)
			}
		})
	}
	// Every order in exactly one bundle when bundles of one count.
	got := agentstest.Call[bundleResult](t, ctx, reg, "wo.bundle_corrective_work_orders", `{"equipment_id":"CWC04703","min_size":1}`)
	n := 0
	for _, b := range got.Bundles {
		n += b.Size
	}
	if n != got.TotalCorrective {
		t.Errorf("bundles of at least one hold %d orders, want all %d", n, got.TotalCorrective)
	}
	if got := agentstest.Call[bundleResult](t, ctx, reg, "wo.bundle_corrective_work_orders", `{"equipment_id":"CWC04014","window_days":200000}`); len(got.Bundles) != 1 || got.Bundles[0].Size != got.TotalCorrective {
		t.Errorf("a 200000-day window: %d bundles, want one of all %d orders", len(got.Bundles), got.TotalCorrective)
	}
	const tool = "wo.bundle_corrective_work_orders"
	checkErrors(t, ctx, reg, append(rangeErrors(tool),
		errCase{name: "negative window", tool: tool, args: `{"equipment_id":"CWC04009","window_days":-1}`, want: "window_days -1 and min_size 0 must be positive"},
		errCase{name: "negative size", tool: tool, args: `{"equipment_id":"CWC04009","min_size":-2}`, want: "window_days 0 and min_size -2 must be positive"},
		errCase{name: "fractional window", tool: tool, args: `{"equipment_id":"CWC04009","window_days":1.5}`, want: "invalid arguments", argsErr: true}))
}

type ranked struct {
	Rank        int      `json:"rank"`
	WorkOrderID string   `json:"wo_id"`
	EquipmentID string   `json:"equipment_id"`
	PrimaryCode string   `json:"primary_code"`
	Description string   `json:"wo_description"`
	Priority    int      `json:"work_priority"`
	Preventive  bool     `json:"preventive"`
	Draft       bool     `json:"draft,omitempty"`
	Score       float64  `json:"score"`
	Reasons     []string `json:"reasons"`
}

type prioritizeResult struct {
	Formula string   `json:"formula"`
	Ranked  []ranked `json:"ranked"`
}

// The formula the tool documents, and its weights of failure categories.
const formula = "score = 10 × (6 − work_priority) + category weight (electrical 15, mechanical 12, leaks 10, control 8, " +
	"operational 6, corrosion 5, external 4, human 3, routine 0) + 2 × orders with the same primary code on the equipment " +
	"in the year before (at most 10) + 10 if corrective"

var weights = map[string]float64{
	"Electrical Failures": 15, "Structural and Mechanical Failures": 12, "Leaks and Seepage": 10, "Control System Failures": 8,
	"Operational Failures": 6, "Corrosion and Wear": 5, "External Influences": 4, "Human Factors": 3, "Maintenance and Routine Checks": 0,
}

// wantRanked scores the orders by the documented formula and ranks them,
// best first, ties by id.
func wantRanked(t *testing.T, orders []fixtures.WorkOrder, drafts bool) prioritizeResult {
	t.Helper()
	out := prioritizeResult{Formula: formula, Ranked: []ranked{}}
	for _, w := range orders {
		c, ok := codeRow(w.PrimaryCode, "")
		if _, known := weights[c.Category]; !ok || !known {
			t.Fatalf("%s: no weight for code %s", w.ID, w.PrimaryCode)
		}
		same := 0
		for _, b := range ordersOf(w.EquipmentID, "", "") {
			if b.ID != w.ID && b.PrimaryCode == w.PrimaryCode && !b.ActualFinish.Before(w.ActualFinish.AddDate(-1, 0, 0)) && b.ActualFinish.Before(w.ActualFinish.Time) {
				same++
			}
		}
		score := 10*float64(6-w.Priority) + weights[c.Category] + math.Min(2*float64(same), 10)
		if !w.Preventive {
			score += 10
		}
		out.Ranked = append(out.Ranked, ranked{WorkOrderID: w.ID, EquipmentID: w.EquipmentID, PrimaryCode: w.PrimaryCode, Description: w.Description,
			Priority: w.Priority, Preventive: w.Preventive, Draft: drafts && strings.HasPrefix(w.ID, "NEW-"), Score: score})
	}
	sort.SliceStable(out.Ranked, func(i, j int) bool {
		a, b := out.Ranked[i], out.Ranked[j]
		return a.Score > b.Score || a.Score == b.Score && a.WorkOrderID < b.WorkOrderID
	})
	for i := range out.Ranked {
		out.Ranked[i].Rank = i + 1
	}
	return out
}

// checkPrioritized compares a ranking with the expected one, and checks
// that each order's reasons add up to its score.
func checkPrioritized(t *testing.T, args string, want, got prioritizeResult) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(ranked{}, "Reasons")); diff != "" {
		t.Errorf("wo.prioritize_work_orders %s (-want +got):\n%s", args, diff)
	}
	for _, r := range got.Ranked {
		sum := 0.0
		for _, reason := range r.Reasons {
			_, term, _ := strings.Cut(reason, ": ")
			v, err := strconv.ParseFloat(term[strings.LastIndex(term, " ")+1:], 64)
			if err != nil {
				t.Fatalf("%s: reason %q has no term: %v", r.WorkOrderID, reason, err)
			}
			sum += v
		}
		if sum != r.Score {
			t.Errorf("%s: reasons %q add up to %g, score %g", r.WorkOrderID, r.Reasons, sum, r.Score)
		}
	}
}

func TestPrioritizeWorkOrders(t *testing.T) {
	ctx := context.Background()
	reg := agentstest.Registry(t)
	corrective := func(sp span) []fixtures.WorkOrder {
		var out []fixtures.WorkOrder
		for _, w := range ordersOf(sp.canonical(), sp.start, sp.end) {
			if !w.Preventive {
				out = append(out, w)
			}
		}
		return out
	}
	// Orders by id: a preventive one, two corrective ones, one of them
	// twice and in lower case.
	june := ordersOf("CWC04009", "2020-06-01", "2020-06-30")
	byID := []fixtures.WorkOrder{june[0], june[2]}
	old := ordersOf("CWC04009", "2017-01-01", "2017-12-31")
	var oldCorrective fixtures.WorkOrder
	for _, w := range old {
		if !w.Preventive {
			oldCorrective = w
			break
		}
	}
	byID = append(byID, oldCorrective)
	tests := []struct {
		name, args string
		orders     []fixtures.WorkOrder
	}{
		{"a year's corrective orders", `{"equipment_id":"CWC04009","start_date":"2020-01-01","end_date":"2020-12-31"}`, corrective(span{id: "CWC04009", start: "2020-01-01", end: "2020-12-31"})},
		{"every corrective order", `{"equipment_id":"cwc04703"}`, corrective(span{id: "CWC04703"})},
		{"ahu", `{"equipment_id":"AHU0412B","end_date":"2018-12-31"}`, corrective(span{id: "AHU0412B", end: "2018-12-31"})},
		{"by id", toJSON(map[string]any{"equipment_id": "CWC04009", "work_order_ids": []string{byID[0].ID, strings.ToLower(byID[1].ID), " " + byID[2].ID}}), byID},
		{"by id, twice", toJSON(map[string]any{"equipment_id": "CWC04009", "work_order_ids": []string{byID[1].ID, byID[1].ID}}), byID[1:2]},
		{"by id, within dates", toJSON(map[string]any{"equipment_id": "CWC04009", "start_date": "2020-06-01", "work_order_ids": []string{byID[0].ID}}), byID[:1]},
		{"no drafts to include", `{"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30","include_drafts":true}`, corrective(span{id: "CWC04009", start: "2020-06-01", end: "2020-06-30"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.orders) == 0 {
				t.Fatal("the case ranks no order")
			}
			got := agentstest.Call[prioritizeResult](t, ctx, reg, "wo.prioritize_work_orders", tt.args)
			checkPrioritized(t, tt.args, wantRanked(t, tt.orders, false), got)
		})
	}
	// One case by hand: WO216692, CWC04009's corrective order of 2020-06-16.
	got := agentstest.Call[prioritizeResult](t, ctx, reg, "wo.prioritize_work_orders", `{"equipment_id":"CWC04009","work_order_ids":["WO216692"]}`)
	w := june[2]
	if w.ID != "WO216692" || w.Priority != 2 || w.PrimaryCode != "CS001" {
		t.Fatalf("the generated data changed: %+v", w)
	}
	// 10 × (6 − 2) + control 8 + 2 × earlier CS001 orders + corrective 10.
	same := 0
	for _, b := range ordersOf("CWC04009", "2019-06-16", "2020-06-15") {
		if b.PrimaryCode == "CS001" {
			same++
		}
	}
	if want := 40 + 8 + float64(2*same) + 10; len(got.Ranked) != 1 || got.Ranked[0].Score != want {
		t.Errorf("WO216692: %+v, want score %g", got.Ranked, want)
	}
	const tool = "wo.prioritize_work_orders"
	checkErrors(t, ctx, reg, []errCase{
		{name: "ids without equipment", tool: tool, args: `{"work_order_ids":["WO216692"]}`, want: "give equipment_id with work_order_ids"},
		{name: "an id of other equipment", tool: tool, args: toJSON(map[string]any{"equipment_id": "CWC04009", "work_order_ids": []string{"WO216692", ordersOf("CWC04006", "", "")[0].ID}}),
			want: "1 of the 2 work orders are neither in CWC04009's history nor drafts of this run"},
		{name: "an id outside the dates", tool: tool, args: `{"equipment_id":"CWC04009","start_date":"2020-07-01","work_order_ids":["WO216692"]}`, want: "1 of the 1 work orders are neither in CWC04009's history nor drafts of this run"},
		{name: "nothing to rank", tool: tool, args: `{}`, want: "no work orders to rank"},
		{name: "no corrective orders in the dates", tool: tool, args: `{"equipment_id":"CWC04009","start_date":"2021-01-01"}`, want: "no work orders to rank"},
		{name: "unknown equipment", tool: tool, args: `{"equipment_id":"CWC09999"}`, want: `unknown equipment "CWC09999"`},
		{name: "bad date", tool: tool, args: `{"equipment_id":"CWC04009","end_date":"yesterday"}`, want: `end_date: cannot read date "yesterday"`},
		{name: "ids not a list", tool: tool, args: `{"equipment_id":"CWC04009","work_order_ids":"WO216692"}`, want: "invalid arguments", argsErr: true},
	})
}

type createResult struct {
	WorkOrder wo.Draft `json:"work_order"`
	FilePath  string   `json:"file_path"`
	Message   string   `json:"message"`
}

func TestCreateWorkOrder(t *testing.T) {
	reg := agentstest.Registry(t)
	now := time.Date(2020, 7, 1, 10, 30, 0, 0, time.UTC)
	dir := t.TempDir()
	ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: dir, Now: now})
	file := filepath.Join(dir, wo.DraftsFile)

	// What the plant's records say before: they must say it after.
	records := func() []string {
		var out []string
		for _, c := range []struct{ tool, args string }{
			{"wo.get_work_orders", `{"equipment_id":"CWC04009"}`},
			{"wo.get_work_orders", `{"equipment_id":"CWC04006"}`},
			{"wo.get_events", `{"equipment_id":"CWC04009"}`},
			{"wo.get_work_order_distribution", `{"equipment_id":"CWC04006"}`},
		} {
			b, err := reg.Call(ctx, c.tool, json.RawMessage(c.args))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		return out
	}
	before := records()

	const tool = "wo.create_work_order"
	valid := func(extra string) string {
		return `{"equipment_id":"CWC04009","primary_code":"M013","description":"Clean the condenser tubes"` + extra + `}`
	}
	checkErrors(t, ctx, reg, []errCase{
		{name: "unknown equipment", tool: tool, args: `{"equipment_id":"CWC09999","primary_code":"M013","description":"x"}`, want: `unknown equipment "CWC09999"`},
		{name: "empty description", tool: tool, args: `{"equipment_id":"CWC04009","primary_code":"M013","description":""}`, want: "description must have 1 to 200 characters, has 0"},
		{name: "blank description", tool: tool, args: `{"equipment_id":"CWC04009","primary_code":"M013","description":" \t "}`, want: "description must have 1 to 200 characters, has 0"},
		{name: "long description", tool: tool, args: toJSON(map[string]any{"equipment_id": "CWC04009", "primary_code": "M013", "description": strings.Repeat("é", 201)}),
			want: "description must have 1 to 200 characters, has 201"},
		{name: "priority too high", tool: tool, args: valid(`,"priority":6`), want: "priority 6 out of range 1..5"},
		{name: "priority negative", tool: tool, args: valid(`,"priority":-1`), want: "priority -1 out of range 1..5"},
		{name: "unknown primary code", tool: tool, args: `{"equipment_id":"CWC04009","primary_code":"ZZ999","description":"x"}`, want: `unknown primary code "ZZ999" (see wo.get_failure_codes)`},
		{name: "secondary code of another primary", tool: tool, args: valid(`,"secondary_code":"M012a"`), want: `primary code M013 has no secondary code "M012a" (secondary codes: M013a, M013b)`},
		{name: "bad due date", tool: tool, args: valid(`,"due_date":"07/02/2020"`), want: `due_date: cannot read date "07/02/2020"`},
		{name: "due yesterday", tool: tool, args: valid(`,"due_date":"2020-06-30"`), want: "due_date 2020-06-30 is before today, 2020-07-01"},
		{name: "no description", tool: tool, args: `{"equipment_id":"CWC04009","primary_code":"M013"}`, want: "description", argsErr: true},
		{name: "an id", tool: tool, args: valid(`,"wo_id":"WO1"`), want: `unexpected additional properties ["wo_id"]`, argsErr: true},
		{name: "priority as text", tool: tool, args: valid(`,"priority":"high"`), want: "invalid arguments", argsErr: true},
	})
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("failed calls wrote %s: %v", file, err)
	}
	// Without an output folder, nothing can be created.
	for _, noDir := range []context.Context{context.Background(), tools.WithEnv(context.Background(), tools.Env{Now: now})} {
		if _, err := reg.Call(noDir, tool, json.RawMessage(valid(""))); !errors.Is(err, tools.ErrNoOutDir) || !strings.HasPrefix(err.Error(), "cannot create work orders") {
			t.Errorf("create without an output folder: %v, want %v", err, tools.ErrNoOutDir)
		}
	}

	draft := func(id, equipment, primary, secondary, desc string, prio int, preventive bool, due string) wo.Draft {
		c, ok := codeRow(primary, secondary)
		if !ok {
			t.Fatalf("no code %s %s", primary, secondary)
		}
		return wo.Draft{
			WorkOrder: fixtures.WorkOrder{ID: id, Description: desc, PrimaryCode: primary, PrimaryCodeDescription: c.PrimaryCodeDescription,
				SecondaryCode: c.SecondaryCode, SecondaryCodeDescription: c.SecondaryCodeDescription, EquipmentID: equipment,
				EquipmentName: equipmentName(equipment), Preventive: preventive, Priority: prio, ActualFinish: fixtures.LocalTime{Time: now}},
			Status: "WAPPR", Created: "2020-07-01T10:30:00", DueDate: due,
		}
	}
	creates := []struct {
		args string
		want wo.Draft
	}{
		// Defaults: priority 3, corrective, the code's first secondary code.
		{`{"equipment_id":" cwc04009","primary_code":"m013","description":"  Clean the condenser tubes  "}`,
			draft("NEW-0001", "CWC04009", "M013", "M013a", "Clean the condenser tubes", 3, false, "")},
		// Everything given; 200 characters of two bytes each; due today.
		{toJSON(map[string]any{"equipment_id": "CWC04006", "primary_code": "E006", "secondary_code": "e006b", "description": strings.Repeat("é", 200),
			"priority": 1, "preventive": true, "due_date": "2020-07-01"}),
			draft("NEW-0002", "CWC04006", "E006", "E006b", strings.Repeat("é", 200), 1, true, "2020-07-01")},
		{valid(`,"priority":5,"due_date":"2020-12-31"`), draft("NEW-0003", "CWC04009", "M013", "M013a", "Clean the condenser tubes", 5, false, "2020-12-31")},
	}
	var wantFile []wo.Draft
	for _, c := range creates {
		got := agentstest.Call[createResult](t, ctx, reg, tool, c.args)
		want := createResult{WorkOrder: c.want, FilePath: wo.DraftsFile,
			Message: fmt.Sprintf("created %s on %s, waiting for approval; the plant's records are unchanged", c.want.ID, c.want.EquipmentID)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tool, c.args, diff)
		}
		wantFile = append(wantFile, c.want)
	}

	// The file holds one JSON object a line, in order of creation.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if !strings.HasSuffix(string(b), "\n") || len(lines) != len(creates) {
		t.Fatalf("%s has %d lines, want %d ended by newlines:\n%s", wo.DraftsFile, len(lines), len(creates), b)
	}
	var gotFile []wo.Draft
	for i, line := range lines {
		var d wo.Draft
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		gotFile = append(gotFile, d)
	}
	if diff := cmp.Diff(wantFile, gotFile); diff != "" {
		t.Errorf("%s (-want +got):\n%s", wo.DraftsFile, diff)
	}
	if !strings.Contains(lines[0], `"status":"WAPPR"`) || !strings.Contains(lines[0], `"wo_id":"NEW-0001"`) || strings.Contains(lines[0], "due_date") {
		t.Errorf("line 1: %s", lines[0])
	}

	// Another run's folder starts again at NEW-0001.
	other := tools.WithEnv(context.Background(), tools.Env{OutDir: t.TempDir(), Now: now})
	if got := agentstest.Call[createResult](t, other, reg, tool, valid("")); got.WorkOrder.ID != "NEW-0001" {
		t.Errorf("first order of another run: %s, want NEW-0001", got.WorkOrder.ID)
	}

	// The drafts are ranked with the plant's orders, and alone.
	var drafts []fixtures.WorkOrder
	for _, d := range wantFile {
		drafts = append(drafts, d.WorkOrder)
	}
	args := `{"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30"}`
	var mixed []fixtures.WorkOrder
	for _, w := range ordersOf("CWC04009", "2020-06-01", "2020-06-30") {
		if !w.Preventive {
			mixed = append(mixed, w)
		}
	}
	checkPrioritized(t, args, wantRanked(t, append(mixed, drafts...), true), agentstest.Call[prioritizeResult](t, ctx, reg, "wo.prioritize_work_orders", args))
	checkPrioritized(t, "{}", wantRanked(t, drafts, true), agentstest.Call[prioritizeResult](t, ctx, reg, "wo.prioritize_work_orders", `{}`))
	args = `{"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30","include_drafts":false}`
	checkPrioritized(t, args, wantRanked(t, mixed, true), agentstest.Call[prioritizeResult](t, ctx, reg, "wo.prioritize_work_orders", args))
	checkErrors(t, ctx, reg, []errCase{{name: "drafts excluded, nothing else", tool: "wo.prioritize_work_orders", args: `{"include_drafts":false}`, want: "no work orders to rank"}})
	// A draft named by id is ranked with the plant's orders named, even with drafts excluded.
	args = `{"equipment_id":"CWC04009","work_order_ids":["` + mixed[0].ID + `","new-0001"],"include_drafts":false}`
	checkPrioritized(t, args, wantRanked(t, []fixtures.WorkOrder{mixed[0], drafts[0]}, true), agentstest.Call[prioritizeResult](t, ctx, reg, "wo.prioritize_work_orders", args))
	checkErrors(t, ctx, reg, []errCase{{name: "unknown draft", tool: "wo.prioritize_work_orders",
		args: `{"equipment_id":"CWC04009","work_order_ids":["NEW-0099"]}`, want: "1 of the 1 work orders are neither in CWC04009's history nor drafts of this run"}})

	// The plant's records are unchanged, and still the generated ones.
	if diff := cmp.Diff(before, records()); diff != "" {
		t.Errorf("the records changed (-before +after):\n%s", diff)
	}
	got := agentstest.Call[workOrdersResult](t, ctx, reg, "wo.get_work_orders", `{"equipment_id":"CWC04009"}`)
	if diff := cmp.Diff(ordersOf("CWC04009", "", ""), got.WorkOrders); diff != "" {
		t.Errorf("CWC04009's orders after creating (-want +got):\n%s", diff)
	}
}

// A corrupt drafts file is an error, not a crash or a silent restart.
func TestCorruptDrafts(t *testing.T) {
	reg := agentstest.Registry(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, wo.DraftsFile), []byte("{\"wo_id\":\"NEW-0001\"\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: dir})
	checkErrors(t, ctx, reg, []errCase{
		{name: "create", tool: "wo.create_work_order", args: `{"equipment_id":"CWC04009","primary_code":"M013","description":"x"}`, want: wo.DraftsFile},
		{name: "prioritize", tool: "wo.prioritize_work_orders", args: `{"equipment_id":"CWC04009"}`, want: wo.DraftsFile},
	})
}
