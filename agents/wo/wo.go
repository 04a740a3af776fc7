// Package wo provides the work-order agent's tools: work orders and events
// of equipment, their failure codes, distributions, predictions, alert and
// anomaly follow-up, bundling, prioritisation, and new orders written to the
// run's sandbox (never to the source data).
package wo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
)

// Store is the data the WO tools read.
type Store interface {
	Equipment(ctx context.Context) ([]fixtures.Equipment, error)
	// WorkOrders lists an equipment's work orders finished in [from, to).
	WorkOrders(ctx context.Context, equipmentID string, from, to time.Time) ([]fixtures.WorkOrder, error)
	// Events lists an equipment's events in [from, to).
	Events(ctx context.Context, equipmentID string, from, to time.Time) ([]fixtures.Event, error)
	FailureCodes(ctx context.Context) ([]fixtures.FailureCode, error)
	AlertRules(ctx context.Context) ([]fixtures.AlertRule, error)
	AnomalyCodes(ctx context.Context) ([]fixtures.AnomalyMapping, error)
	// WorkOrdersWithCodes lists every work order with one of the primary codes.
	WorkOrdersWithCodes(ctx context.Context, codes []string) ([]fixtures.WorkOrder, error)
}

// Tools returns the WO tools over a store.
func Tools(s Store) []tools.Tool {
	t := &woTools{store: s}
	const dates = " Dates are YYYY-MM-DD, both inclusive; open when empty."
	return []tools.Tool{
		tools.New("wo.get_work_orders", "Work orders of a piece of equipment (id like CWC04009) finished between start_date and end_date."+dates, t.getWorkOrders),
		tools.New("wo.get_preventive_work_orders", "Preventive work orders of a piece of equipment."+dates, t.getPreventive),
		tools.New("wo.get_corrective_work_orders", "Corrective work orders of a piece of equipment."+dates, t.getCorrective),
		tools.New("wo.get_events", "Events of a piece of equipment (work orders, alerts, anomalies), optionally of one event group."+dates, t.getEvents),
		tools.New("wo.summarize_events", "Counts of a piece of equipment's events by group (WORK_ORDER, ALERT, ANOMALY) and by type."+dates, t.summarizeEvents),
		tools.New("wo.daily_event_counts", "Events per day of a piece of equipment, by group, and how many days had any."+dates, t.dailyEventCounts),
		tools.New("wo.get_failure_codes", "The failure-code catalog: categories, primary and secondary codes; optionally one primary code or category.", t.getFailureCodes),
		tools.New("wo.get_work_order_distribution", "How a piece of equipment's work orders spread over failure codes, most frequent first."+dates, t.distribution),
		tools.New("wo.predict_next_work_order", "Probabilities of the next work order's primary code from a first-order Markov chain over the "+
			"equipment's history (finished by end_date, default now)."+dates, t.predictNext),
		tools.New("wo.analyze_alert_to_failure", "What followed an alert rule's alerts on a piece of equipment: the next work order within "+
			"max_days (default 30) or none, with probabilities and mean hours to maintenance."+dates, t.alertToFailure),
		tools.New("wo.recommend_work_orders", "Work orders to consider for an alert rule (rule_id) or a KPI anomaly (kpi and anomaly_type "+
			"High or Low): the failure codes they point to and what past orders with those codes involved.", t.recommend),
		tools.New("wo.bundle_corrective_work_orders", "Group a piece of equipment's corrective work orders that fall within window_days "+
			"(default 14) of each other, keeping groups of at least min_size (default 2), to do them in one maintenance visit."+dates, t.bundle),
		tools.New("wo.prioritize_work_orders", "Rank work orders (by id, or a piece of equipment's corrective orders in a date range, and "+
			"the orders created in this run) by a score of priority, failure category, recurrence and whether they are corrective.", t.prioritize),
		tools.New("wo.create_work_order", "Create a work order in this run's sandbox (never in the plant's records); it is validated "+
			"against the equipment and failure-code catalog.", t.create),
	}
}

type woTools struct{ store Store }

// rangeIn is the common equipment-and-dates argument.
type rangeIn struct {
	EquipmentID string `json:"equipment_id" jsonschema:"equipment id, e.g. CWC04009"`
	StartDate   string `json:"start_date,omitempty" jsonschema:"first day, YYYY-MM-DD (inclusive); open when empty"`
	EndDate     string `json:"end_date,omitempty" jsonschema:"last day, YYYY-MM-DD (inclusive); open when empty"`
}

// span is a resolved equipment and [from, to) window.
type span struct {
	equipment  fixtures.Equipment
	from, to   time.Time
	start, end string // as given
}

var (
	openStart = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	openEnd   = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (t *woTools) equipment(ctx context.Context, id string) (fixtures.Equipment, error) {
	all, err := t.store.Equipment(ctx)
	if err != nil {
		return fixtures.Equipment{}, err
	}
	var known []string
	for _, e := range all {
		if strings.EqualFold(e.ID, strings.TrimSpace(id)) {
			return e, nil
		}
		known = append(known, e.ID)
	}
	return fixtures.Equipment{}, fmt.Errorf("unknown equipment %q (equipment: %s)", id, strings.Join(known, ", "))
}

// resolve checks the equipment and the dates; an empty end_date means
// defaultEnd (open, or the run clock for predictions).
func (t *woTools) resolve(ctx context.Context, in rangeIn, defaultEnd time.Time) (span, error) {
	e, err := t.equipment(ctx, in.EquipmentID)
	if err != nil {
		return span{}, err
	}
	from, err := parseDay(in.StartDate, openStart)
	if err != nil {
		return span{}, fmt.Errorf("start_date: %w", err)
	}
	to := defaultEnd
	if in.EndDate != "" {
		end, err := parseDay(in.EndDate, openEnd)
		if err != nil {
			return span{}, fmt.Errorf("end_date: %w", err)
		}
		to = end.AddDate(0, 0, 1) // the end day is inclusive
	}
	if !from.Before(to) {
		if in.EndDate == "" {
			// The range ends at the run's clock: say so rather than name an empty end.
			return span{}, fmt.Errorf("start_date %s is after %s: without end_date the range ends at the run's clock", in.StartDate, to.Add(-time.Nanosecond).Format("2006-01-02"))
		}
		return span{}, fmt.Errorf("start_date %s is after end_date %s", in.StartDate, in.EndDate)
	}
	return span{equipment: e, from: from, to: to, start: in.StartDate, end: in.EndDate}, nil
}

func parseDay(s string, empty time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return empty, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot read date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

type workOrdersOut struct {
	EquipmentID   string               `json:"equipment_id"`
	EquipmentName string               `json:"equipment_name"`
	StartDate     string               `json:"start_date,omitempty"`
	EndDate       string               `json:"end_date,omitempty"`
	Total         int                  `json:"total"`
	Preventive    int                  `json:"preventive"`
	Corrective    int                  `json:"corrective"`
	WorkOrders    []fixtures.WorkOrder `json:"work_orders"`
}

func (t *woTools) orders(ctx context.Context, in rangeIn, keep func(fixtures.WorkOrder) bool) (workOrdersOut, error) {
	sp, err := t.resolve(ctx, in, openEnd)
	if err != nil {
		return workOrdersOut{}, err
	}
	all, err := t.store.WorkOrders(ctx, sp.equipment.ID, sp.from, sp.to)
	if err != nil {
		return workOrdersOut{}, err
	}
	out := workOrdersOut{EquipmentID: sp.equipment.ID, EquipmentName: sp.equipment.Name, StartDate: sp.start, EndDate: sp.end, WorkOrders: []fixtures.WorkOrder{}}
	for _, w := range all {
		if !keep(w) {
			continue
		}
		out.WorkOrders = append(out.WorkOrders, w)
		if w.Preventive {
			out.Preventive++
		} else {
			out.Corrective++
		}
	}
	out.Total = len(out.WorkOrders)
	return out, nil
}

func (t *woTools) getWorkOrders(ctx context.Context, in rangeIn) (workOrdersOut, error) {
	return t.orders(ctx, in, func(fixtures.WorkOrder) bool { return true })
}

func (t *woTools) getPreventive(ctx context.Context, in rangeIn) (workOrdersOut, error) {
	return t.orders(ctx, in, func(w fixtures.WorkOrder) bool { return w.Preventive })
}

func (t *woTools) getCorrective(ctx context.Context, in rangeIn) (workOrdersOut, error) {
	return t.orders(ctx, in, func(w fixtures.WorkOrder) bool { return !w.Preventive })
}
