package wo

import (
	"context"
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

type codesIn struct {
	PrimaryCode string `json:"primary_code,omitempty" jsonschema:"only this primary code, e.g. M013"`
	Category    string `json:"category,omitempty" jsonschema:"only this category, e.g. Electrical Failures"`
}

type codesOut struct {
	Total        int                    `json:"total"`
	FailureCodes []fixtures.FailureCode `json:"failure_codes"`
}

func (t *woTools) getFailureCodes(ctx context.Context, in codesIn) (codesOut, error) {
	all, err := t.store.FailureCodes(ctx)
	if err != nil {
		return codesOut{}, err
	}
	out := codesOut{FailureCodes: []fixtures.FailureCode{}}
	for _, c := range all {
		if in.PrimaryCode != "" && !strings.EqualFold(c.PrimaryCode, strings.TrimSpace(in.PrimaryCode)) {
			continue
		}
		if in.Category != "" && !strings.EqualFold(c.Category, strings.TrimSpace(in.Category)) {
			continue
		}
		out.FailureCodes = append(out.FailureCodes, c)
	}
	if len(out.FailureCodes) == 0 && (in.PrimaryCode != "" || in.Category != "") {
		return codesOut{}, fmt.Errorf("no failure code matches primary code %q, category %q", in.PrimaryCode, in.Category)
	}
	out.Total = len(out.FailureCodes)
	return out, nil
}

// catalog indexes failure codes by secondary and by primary code.
type catalog struct {
	bySecondary map[string]fixtures.FailureCode
	byPrimary   map[string]fixtures.FailureCode
}

func (t *woTools) catalog(ctx context.Context) (catalog, error) {
	all, err := t.store.FailureCodes(ctx)
	if err != nil {
		return catalog{}, err
	}
	c := catalog{bySecondary: map[string]fixtures.FailureCode{}, byPrimary: map[string]fixtures.FailureCode{}}
	for _, fc := range all {
		c.bySecondary[fc.SecondaryCode] = fc
		if _, ok := c.byPrimary[fc.PrimaryCode]; !ok {
			c.byPrimary[fc.PrimaryCode] = fc
		}
	}
	return c, nil
}

// notInCatalog names codes the catalog lacks; the original dropped them
// from distributions, which hid work that was done.
const notInCatalog = "(not in the failure-code catalog)"

type distEntry struct {
	Category                 string `json:"category"`
	PrimaryCode              string `json:"primary_code"`
	PrimaryCodeDescription   string `json:"primary_code_description"`
	SecondaryCode            string `json:"secondary_code"`
	SecondaryCodeDescription string `json:"secondary_code_description"`
	Count                    int    `json:"count"`
}

type distributionOut struct {
	EquipmentID     string      `json:"equipment_id"`
	StartDate       string      `json:"start_date,omitempty"`
	EndDate         string      `json:"end_date,omitempty"`
	TotalWorkOrders int         `json:"total_work_orders"`
	Distribution    []distEntry `json:"distribution"`
}

func (t *woTools) distribution(ctx context.Context, in rangeIn) (distributionOut, error) {
	sp, err := t.resolve(ctx, in, openEnd)
	if err != nil {
		return distributionOut{}, err
	}
	wos, err := t.store.WorkOrders(ctx, sp.equipment.ID, sp.from, sp.to)
	if err != nil {
		return distributionOut{}, err
	}
	cat, err := t.catalog(ctx)
	if err != nil {
		return distributionOut{}, err
	}
	counts := map[[2]string]*distEntry{}
	for _, w := range wos {
		k := [2]string{w.PrimaryCode, w.SecondaryCode}
		if counts[k] == nil {
			e := distEntry{PrimaryCode: w.PrimaryCode, SecondaryCode: w.SecondaryCode, Category: notInCatalog,
				PrimaryCodeDescription: w.PrimaryCodeDescription, SecondaryCodeDescription: w.SecondaryCodeDescription}
			if fc, ok := cat.bySecondary[w.SecondaryCode]; ok {
				e.Category, e.PrimaryCodeDescription, e.SecondaryCodeDescription = fc.Category, fc.PrimaryCodeDescription, fc.SecondaryCodeDescription
			}
			counts[k] = &e
		}
		counts[k].Count++
	}
	out := distributionOut{EquipmentID: sp.equipment.ID, StartDate: sp.start, EndDate: sp.end, TotalWorkOrders: len(wos), Distribution: []distEntry{}}
	for _, e := range counts {
		out.Distribution = append(out.Distribution, *e)
	}
	sort.Slice(out.Distribution, func(i, j int) bool {
		a, b := out.Distribution[i], out.Distribution[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.SecondaryCode < b.SecondaryCode
	})
	return out, nil
}

type prediction struct {
	Category               string  `json:"category"`
	PrimaryCode            string  `json:"primary_code"`
	PrimaryCodeDescription string  `json:"primary_code_description"`
	Probability            float64 `json:"probability"`
	Count                  int     `json:"count"`
}

type predictOut struct {
	EquipmentID   string `json:"equipment_id"`
	StartDate     string `json:"start_date,omitempty"`
	EndDate       string `json:"end_date"`
	HistoryLength int    `json:"history_length"`
	LastWorkOrder struct {
		WorkOrderID  string `json:"wo_id"`
		PrimaryCode  string `json:"primary_code"`
		Description  string `json:"primary_code_description"`
		ActualFinish string `json:"actual_finish"`
	} `json:"last_work_order"`
	Method      string       `json:"method"`
	Predictions []prediction `json:"predictions"`
}

// predictNext estimates P(next primary code | last primary code) from the
// equipment's consecutive work orders (by finish time). When the last code
// was never followed by another, it falls back to the codes' frequencies,
// and says so.
func (t *woTools) predictNext(ctx context.Context, in rangeIn) (predictOut, error) {
	now := tools.EnvFrom(ctx).Now
	sp, err := t.resolve(ctx, in, now)
	if err != nil {
		return predictOut{}, err
	}
	wos, err := t.store.WorkOrders(ctx, sp.equipment.ID, sp.from, sp.to)
	if err != nil {
		return predictOut{}, err
	}
	// The last day the history covers: the end day, or now's day when the
	// history runs until now (the day before would hide that morning's
	// orders, which the history holds).
	lastDay := sp.to.Add(-time.Nanosecond).Format("2006-01-02")
	if len(wos) == 0 {
		return predictOut{}, fmt.Errorf("%s has no work orders finished from %s to %s to learn from", sp.equipment.ID,
			sp.from.Format("2006-01-02"), lastDay)
	}
	cat, err := t.catalog(ctx)
	if err != nil {
		return predictOut{}, err
	}
	var out predictOut
	out.EquipmentID, out.StartDate, out.HistoryLength = sp.equipment.ID, sp.start, len(wos)
	out.EndDate = lastDay
	last := wos[len(wos)-1]
	out.LastWorkOrder.WorkOrderID, out.LastWorkOrder.PrimaryCode = last.ID, last.PrimaryCode
	out.LastWorkOrder.Description, out.LastWorkOrder.ActualFinish = last.PrimaryCodeDescription, last.ActualFinish.String()
	next := map[string]int{}
	for i := 0; i+1 < len(wos); i++ {
		if wos[i].PrimaryCode == last.PrimaryCode {
			next[wos[i+1].PrimaryCode]++
		}
	}
	out.Method = fmt.Sprintf("first-order Markov chain: the codes that followed %s", last.PrimaryCode)
	if len(next) == 0 {
		out.Method = fmt.Sprintf("%s was never followed by another order; frequencies of all codes", last.PrimaryCode)
		for _, w := range wos {
			next[w.PrimaryCode]++
		}
	}
	total := 0
	for _, n := range next {
		total += n
	}
	for code, n := range next {
		p := prediction{PrimaryCode: code, Count: n, Probability: math.Round(float64(n)/float64(total)*1e4) / 1e4}
		if fc, ok := cat.byPrimary[code]; ok {
			p.Category, p.PrimaryCodeDescription = fc.Category, fc.PrimaryCodeDescription
		} else {
			p.Category = notInCatalog
		}
		out.Predictions = append(out.Predictions, p)
	}
	sort.Slice(out.Predictions, func(i, j int) bool {
		a, b := out.Predictions[i], out.Predictions[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.PrimaryCode < b.PrimaryCode
	})
	return out, nil
}

type alertIn struct {
	rangeIn
	RuleID  string `json:"rule_id" jsonschema:"alert rule, e.g. RUL0018"`
	MaxDays int    `json:"max_days,omitempty" jsonschema:"how long after an alert a work order counts as its follow-up (default 30)"`
}

type transition struct {
	Transition                string   `json:"transition"`
	Count                     int      `json:"count"`
	Probability               float64  `json:"probability"`
	AverageHoursToMaintenance *float64 `json:"average_hours_to_maintenance,omitempty"`
}

type alertOut struct {
	EquipmentID         string       `json:"equipment_id"`
	RuleID              string       `json:"rule_id"`
	RuleName            string       `json:"rule_name"`
	StartDate           string       `json:"start_date,omitempty"`
	EndDate             string       `json:"end_date,omitempty"`
	MaxDays             int          `json:"max_days"`
	TotalAlertsAnalyzed int          `json:"total_alerts_analyzed"`
	Transitions         []transition `json:"transitions"`
}

// alertToFailure follows each alert to the next work-order event within
// max_days. (The original scanned the alert table, which has no event group,
// so every alert came out as "No Maintenance".)
func (t *woTools) alertToFailure(ctx context.Context, in alertIn) (alertOut, error) {
	rules, err := t.store.AlertRules(ctx)
	if err != nil {
		return alertOut{}, err
	}
	var rule *fixtures.AlertRule
	var ids []string
	for i := range rules {
		ids = append(ids, rules[i].ID)
		if strings.EqualFold(rules[i].ID, strings.TrimSpace(in.RuleID)) {
			rule = &rules[i]
		}
	}
	if rule == nil {
		return alertOut{}, fmt.Errorf("unknown alert rule %q (rules: %s)", in.RuleID, strings.Join(ids, ", "))
	}
	maxDays := in.MaxDays
	if maxDays == 0 {
		maxDays = 30
	}
	if maxDays < 0 || maxDays > 3650 {
		return alertOut{}, fmt.Errorf("max_days %d out of range 1..3650", maxDays)
	}
	sp, err := t.resolve(ctx, in.rangeIn, openEnd)
	if err != nil {
		return alertOut{}, err
	}
	// Follow-ups may finish after the window: read max_days past it.
	evs, err := t.store.Events(ctx, sp.equipment.ID, sp.from, sp.to.AddDate(0, 0, maxDays))
	if err != nil {
		return alertOut{}, err
	}
	out := alertOut{EquipmentID: sp.equipment.ID, RuleID: rule.ID, RuleName: rule.Name, StartDate: sp.start, EndDate: sp.end,
		MaxDays: maxDays, Transitions: []transition{}}
	counts := map[string]int{}
	hours := map[string]float64{}
	for i, e := range evs {
		if e.Group != "ALERT" || e.Type != rule.ID || !e.Time.Before(sp.to) {
			continue
		}
		out.TotalAlertsAnalyzed++
		key := "No Maintenance"
		for _, f := range evs[i+1:] {
			if f.Time.Sub(e.Time.Time) > time.Duration(maxDays)*24*time.Hour {
				break
			}
			if f.Group == "WORK_ORDER" {
				key = "WORK_ORDER " + f.Type
				hours[key] += f.Time.Sub(e.Time.Time).Hours()
				break
			}
		}
		counts[key]++
	}
	for k, n := range counts {
		tr := transition{Transition: k, Count: n, Probability: math.Round(float64(n)/float64(out.TotalAlertsAnalyzed)*1e4) / 1e4}
		if k != "No Maintenance" {
			h := math.Round(hours[k]/float64(n)*100) / 100
			tr.AverageHoursToMaintenance = &h
		}
		out.Transitions = append(out.Transitions, tr)
	}
	sort.Slice(out.Transitions, func(i, j int) bool {
		a, b := out.Transitions[i], out.Transitions[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Transition < b.Transition
	})
	return out, nil
}

type recommendIn struct {
	EquipmentID string `json:"equipment_id,omitempty" jsonschema:"the equipment the recommendation is for; its own history counts first"`
	RuleID      string `json:"rule_id,omitempty" jsonschema:"an alert rule, e.g. RUL0018"`
	KPI         string `json:"kpi,omitempty" jsonschema:"a KPI that raised an anomaly, e.g. Efficiency"`
	AnomalyType string `json:"anomaly_type,omitempty" jsonschema:"High or Low, with kpi"`
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

type recommendOut struct {
	EquipmentID     string           `json:"equipment_id,omitempty"`
	Trigger         string           `json:"trigger"`
	Recommendations []recommendation `json:"recommendations"`
}

func (t *woTools) recommend(ctx context.Context, in recommendIn) (recommendOut, error) {
	var codes []string
	var trigger string
	switch {
	case in.RuleID != "" && in.KPI != "":
		return recommendOut{}, fmt.Errorf("give rule_id or kpi, not both")
	case in.RuleID != "":
		rules, err := t.store.AlertRules(ctx)
		if err != nil {
			return recommendOut{}, err
		}
		var ids []string
		for _, r := range rules {
			ids = append(ids, r.ID)
			if strings.EqualFold(r.ID, strings.TrimSpace(in.RuleID)) {
				codes, trigger = r.PrimaryCodes, "alert rule "+r.ID+" ("+r.Name+")"
			}
		}
		if trigger == "" {
			return recommendOut{}, fmt.Errorf("unknown alert rule %q (rules: %s)", in.RuleID, strings.Join(ids, ", "))
		}
	case in.KPI != "":
		typ := map[string]string{"high": "High", "low": "Low"}[strings.ToLower(strings.TrimSpace(in.AnomalyType))]
		if typ == "" {
			return recommendOut{}, fmt.Errorf("anomaly_type %q: want High or Low", in.AnomalyType)
		}
		mappings, err := t.store.AnomalyCodes(ctx)
		if err != nil {
			return recommendOut{}, err
		}
		kpis := map[string]bool{}
		for _, m := range mappings {
			kpis[m.KPI] = true
			if strings.EqualFold(m.KPI, strings.TrimSpace(in.KPI)) && m.AnomalyType == typ {
				codes = append(codes, m.PrimaryCode)
				trigger = fmt.Sprintf("%s anomaly of KPI %s", typ, m.KPI)
			}
		}
		if trigger == "" {
			return recommendOut{}, fmt.Errorf("no failure codes for a %s anomaly of KPI %q (KPIs: %s)", typ, in.KPI, strings.Join(slices.Sorted(maps.Keys(kpis)), ", "))
		}
	default:
		return recommendOut{}, fmt.Errorf("give rule_id, or kpi with anomaly_type")
	}
	var equipment string
	if in.EquipmentID != "" {
		e, err := t.equipment(ctx, in.EquipmentID)
		if err != nil {
			return recommendOut{}, err
		}
		equipment = e.ID
	}
	codes = dedupe(codes)
	past, err := t.store.WorkOrdersWithCodes(ctx, codes)
	if err != nil {
		return recommendOut{}, err
	}
	cat, err := t.catalog(ctx)
	if err != nil {
		return recommendOut{}, err
	}
	out := recommendOut{EquipmentID: equipment, Trigger: trigger, Recommendations: []recommendation{}}
	for _, code := range codes {
		r := recommendation{PrimaryCode: code, Category: notInCatalog, Examples: []string{}}
		if fc, ok := cat.byPrimary[code]; ok {
			r.Category, r.PrimaryCodeDescription = fc.Category, fc.PrimaryCodeDescription
		}
		var durations, labor []float64
		collections := map[string]int{}
		for _, w := range past {
			if w.PrimaryCode != code {
				continue
			}
			r.PastOverall++
			if w.EquipmentID == equipment {
				r.PastOnEquipment++
				if len(r.Examples) < 3 {
					r.Examples = append(r.Examples, w.ID)
				}
			}
			durations, labor = append(durations, w.DurationHours), append(labor, w.LaborHours)
			collections[w.Collection]++
		}
		r.MedianDurationHours, r.MedianLaborHours = median(durations), median(labor)
		best := 0
		for _, c := range slices.Sorted(maps.Keys(collections)) {
			if collections[c] > best {
				r.TypicalCollection, best = c, collections[c]
			}
		}
		out.Recommendations = append(out.Recommendations, r)
	}
	sort.SliceStable(out.Recommendations, func(i, j int) bool {
		a, b := out.Recommendations[i], out.Recommendations[j]
		if a.PastOnEquipment != b.PastOnEquipment {
			return a.PastOnEquipment > b.PastOnEquipment
		}
		return a.PastOverall > b.PastOverall
	})
	return out, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
