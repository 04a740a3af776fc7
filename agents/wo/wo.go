// Package wo provides the work-order agent's tools.
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
}

// Tools returns the WO tools over a store.
func Tools(s Store) []tools.Tool {
	t := &woTools{store: s}
	return []tools.Tool{
		tools.New("wo.get_work_orders",
			"Work orders of a piece of equipment (id like CWC04009) finished between start_date and end_date, both inclusive (YYYY-MM-DD).",
			t.getWorkOrders),
	}
}

type woTools struct{ store Store }

type workOrdersIn struct {
	EquipmentID string `json:"equipment_id" jsonschema:"equipment id, e.g. CWC04009"`
	StartDate   string `json:"start_date,omitempty" jsonschema:"first day, YYYY-MM-DD (inclusive); open when empty"`
	EndDate     string `json:"end_date,omitempty" jsonschema:"last day, YYYY-MM-DD (inclusive); open when empty"`
}

type workOrdersOut struct {
	EquipmentID string               `json:"equipment_id"`
	StartDate   string               `json:"start_date,omitempty"`
	EndDate     string               `json:"end_date,omitempty"`
	Total       int                  `json:"total"`
	Preventive  int                  `json:"preventive"`
	Corrective  int                  `json:"corrective"`
	WorkOrders  []fixtures.WorkOrder `json:"work_orders"`
}

func (t *woTools) getWorkOrders(ctx context.Context, in workOrdersIn) (workOrdersOut, error) {
	all, err := t.store.Equipment(ctx)
	if err != nil {
		return workOrdersOut{}, err
	}
	var equipment string
	var known []string
	for _, e := range all {
		known = append(known, e.ID)
		if strings.EqualFold(e.ID, strings.TrimSpace(in.EquipmentID)) {
			equipment = e.ID
		}
	}
	if equipment == "" {
		return workOrdersOut{}, fmt.Errorf("unknown equipment %q (equipment: %s)", in.EquipmentID, strings.Join(known, ", "))
	}
	from, err := parseDay(in.StartDate, time.Time{})
	if err != nil {
		return workOrdersOut{}, fmt.Errorf("start_date: %w", err)
	}
	// The end day is inclusive: the window ends at the next midnight.
	to, err := parseDay(in.EndDate, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return workOrdersOut{}, fmt.Errorf("end_date: %w", err)
	}
	if in.EndDate != "" {
		to = to.AddDate(0, 0, 1)
	}
	if !from.Before(to) {
		return workOrdersOut{}, fmt.Errorf("start_date %s is after end_date %s", in.StartDate, in.EndDate)
	}
	orders, err := t.store.WorkOrders(ctx, equipment, from, to)
	if err != nil {
		return workOrdersOut{}, err
	}
	out := workOrdersOut{EquipmentID: equipment, StartDate: in.StartDate, EndDate: in.EndDate, WorkOrders: []fixtures.WorkOrder{}}
	for _, w := range orders {
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
