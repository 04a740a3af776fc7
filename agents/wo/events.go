package wo

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/assetops/assetops/fixtures"
)

// Event groups.
var groups = []string{"WORK_ORDER", "ALERT", "ANOMALY"}

type eventsIn struct {
	rangeIn
	EventGroup string `json:"event_group,omitempty" jsonschema:"only WORK_ORDER, ALERT or ANOMALY events"`
}

type eventsOut struct {
	EquipmentID   string           `json:"equipment_id"`
	EquipmentName string           `json:"equipment_name"`
	StartDate     string           `json:"start_date,omitempty"`
	EndDate       string           `json:"end_date,omitempty"`
	EventGroup    string           `json:"event_group,omitempty"`
	Total         int              `json:"total"`
	Events        []fixtures.Event `json:"events"`
}

func checkGroup(g string) (string, error) {
	if g == "" {
		return "", nil
	}
	for _, known := range groups {
		if strings.EqualFold(strings.ReplaceAll(g, " ", "_"), known) {
			return known, nil
		}
	}
	return "", fmt.Errorf("unknown event group %q (groups: %s)", g, strings.Join(groups, ", "))
}

func (t *woTools) events(ctx context.Context, in eventsIn) (span, string, []fixtures.Event, error) {
	group, err := checkGroup(in.EventGroup)
	if err != nil {
		return span{}, "", nil, err
	}
	sp, err := t.resolve(ctx, in.rangeIn, openEnd)
	if err != nil {
		return span{}, "", nil, err
	}
	all, err := t.store.Events(ctx, sp.equipment.ID, sp.from, sp.to)
	if err != nil {
		return span{}, "", nil, err
	}
	out := []fixtures.Event{}
	for _, e := range all {
		if group == "" || e.Group == group {
			out = append(out, e)
		}
	}
	return sp, group, out, nil
}

func (t *woTools) getEvents(ctx context.Context, in eventsIn) (eventsOut, error) {
	sp, group, evs, err := t.events(ctx, in)
	if err != nil {
		return eventsOut{}, err
	}
	return eventsOut{EquipmentID: sp.equipment.ID, EquipmentName: sp.equipment.Name, StartDate: sp.start, EndDate: sp.end,
		EventGroup: group, Total: len(evs), Events: evs}, nil
}

type typeCount struct {
	Group       string `json:"event_group"`
	Type        string `json:"event_type"`
	Description string `json:"description"`
	Count       int    `json:"count"`
}

type summaryOut struct {
	EquipmentID   string         `json:"equipment_id"`
	EquipmentName string         `json:"equipment_name"`
	StartDate     string         `json:"start_date,omitempty"`
	EndDate       string         `json:"end_date,omitempty"`
	Total         int            `json:"total"`
	ByGroup       map[string]int `json:"by_group"`
	ByType        []typeCount    `json:"by_type"`
}

func (t *woTools) summarizeEvents(ctx context.Context, in rangeIn) (summaryOut, error) {
	sp, _, evs, err := t.events(ctx, eventsIn{rangeIn: in})
	if err != nil {
		return summaryOut{}, err
	}
	out := summaryOut{EquipmentID: sp.equipment.ID, EquipmentName: sp.equipment.Name, StartDate: sp.start, EndDate: sp.end,
		Total: len(evs), ByGroup: map[string]int{}, ByType: []typeCount{}}
	for _, g := range groups {
		out.ByGroup[g] = 0
	}
	byType := map[[2]string]*typeCount{}
	for _, e := range evs {
		out.ByGroup[e.Group]++
		k := [2]string{e.Group, e.Type}
		if byType[k] == nil {
			byType[k] = &typeCount{Group: e.Group, Type: e.Type, Description: e.Description}
		}
		byType[k].Count++
	}
	for _, c := range byType {
		out.ByType = append(out.ByType, *c)
	}
	sort.Slice(out.ByType, func(i, j int) bool {
		a, b := out.ByType[i], out.ByType[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.Type < b.Type
	})
	return out, nil
}

type dailyIn struct {
	rangeIn
	EventGroups []string `json:"event_groups,omitempty" jsonschema:"count only these groups (WORK_ORDER, ALERT, ANOMALY); all when empty"`
}

type dayCount struct {
	Date   string         `json:"date"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

type dailyOut struct {
	EquipmentID    string     `json:"equipment_id"`
	StartDate      string     `json:"start_date,omitempty"`
	EndDate        string     `json:"end_date,omitempty"`
	EventGroups    []string   `json:"event_groups"`
	DaysWithEvents int        `json:"days_with_events"`
	TotalEvents    int        `json:"total_events"`
	Days           []dayCount `json:"days"`
}

func (t *woTools) dailyEventCounts(ctx context.Context, in dailyIn) (dailyOut, error) {
	want := map[string]bool{}
	for _, g := range in.EventGroups {
		known, err := checkGroup(g)
		if err != nil {
			return dailyOut{}, err
		}
		// A blank entry names no group, as in get_events: without this
		// check, [""] selected an empty group and counted nothing.
		if known != "" {
			want[known] = true
		}
	}
	sp, _, evs, err := t.events(ctx, eventsIn{rangeIn: in.rangeIn})
	if err != nil {
		return dailyOut{}, err
	}
	out := dailyOut{EquipmentID: sp.equipment.ID, StartDate: sp.start, EndDate: sp.end, Days: []dayCount{}}
	for _, g := range groups {
		if len(want) == 0 || want[g] {
			out.EventGroups = append(out.EventGroups, g)
		}
	}
	byDay := map[string]*dayCount{}
	for _, e := range evs {
		if len(want) > 0 && !want[e.Group] {
			continue
		}
		date := e.Time.Format("2006-01-02")
		if byDay[date] == nil {
			byDay[date] = &dayCount{Date: date, Counts: map[string]int{}}
		}
		byDay[date].Counts[e.Group]++
		byDay[date].Total++
		out.TotalEvents++
	}
	for _, d := range byDay {
		out.Days = append(out.Days, *d)
	}
	sort.Slice(out.Days, func(i, j int) bool { return out.Days[i].Date < out.Days[j].Date })
	out.DaysWithEvents = len(out.Days)
	return out, nil
}
