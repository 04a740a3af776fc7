package wo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
)

type bundleIn struct {
	rangeIn
	WindowDays int `json:"window_days,omitempty" jsonschema:"largest gap in days between consecutive orders of one bundle (default 14)"`
	MinSize    int `json:"min_size,omitempty" jsonschema:"smallest bundle to keep (default 2)"`
}

type bundle struct {
	Size         int      `json:"size"`
	Start        string   `json:"start"`
	End          string   `json:"end"`
	WorkOrders   []string `json:"work_orders"`
	PrimaryCodes []string `json:"primary_codes"`
}

type bundleOut struct {
	EquipmentID     string   `json:"equipment_id"`
	StartDate       string   `json:"start_date,omitempty"`
	EndDate         string   `json:"end_date,omitempty"`
	WindowDays      int      `json:"window_days"`
	MinSize         int      `json:"min_size"`
	TotalCorrective int      `json:"total_corrective"`
	Bundles         []bundle `json:"bundles"`
}

// bundle groups corrective orders by finish time: a new bundle starts when
// the gap to the previous order exceeds the window. (This rule reproduces
// the original's scenario 424: bundles of 15, 6 and 2.)
func (t *woTools) bundle(ctx context.Context, in bundleIn) (bundleOut, error) {
	window, minSize := in.WindowDays, in.MinSize
	if window == 0 {
		window = 14
	}
	if minSize == 0 {
		minSize = 2
	}
	if window < 0 || minSize < 1 {
		return bundleOut{}, fmt.Errorf("window_days %d and min_size %d must be positive", in.WindowDays, in.MinSize)
	}
	orders, err := t.getCorrective(ctx, in.rangeIn)
	if err != nil {
		return bundleOut{}, err
	}
	out := bundleOut{EquipmentID: orders.EquipmentID, StartDate: in.StartDate, EndDate: in.EndDate, WindowDays: window, MinSize: minSize,
		TotalCorrective: orders.Total, Bundles: []bundle{}}
	var cur []fixtures.WorkOrder
	flush := func() {
		if len(cur) >= minSize {
			b := bundle{Size: len(cur), Start: cur[0].ActualFinish.String(), End: cur[len(cur)-1].ActualFinish.String()}
			codes := map[string]bool{}
			for _, w := range cur {
				b.WorkOrders = append(b.WorkOrders, w.ID)
				codes[w.PrimaryCode] = true
			}
			b.PrimaryCodes = slices.Sorted(maps.Keys(codes))
			out.Bundles = append(out.Bundles, b)
		}
		cur = nil
	}
	for _, w := range orders.WorkOrders {
		// Compare in hours: time.Duration(window)*24*time.Hour overflows
		// past 106751 days and turned every gap into a new bundle.
		if len(cur) > 0 && w.ActualFinish.Sub(cur[len(cur)-1].ActualFinish.Time).Hours() > 24*float64(window) {
			flush()
		}
		cur = append(cur, w)
	}
	flush()
	return out, nil
}

type prioritizeIn struct {
	WorkOrderIDs  []string `json:"work_order_ids,omitempty" jsonschema:"orders to rank, by id (with equipment_id, of that equipment)"`
	EquipmentID   string   `json:"equipment_id,omitempty" jsonschema:"rank this equipment's corrective orders in the dates (or the ids given)"`
	StartDate     string   `json:"start_date,omitempty" jsonschema:"first day, YYYY-MM-DD (inclusive); open when empty"`
	EndDate       string   `json:"end_date,omitempty" jsonschema:"last day, YYYY-MM-DD (inclusive); open when empty"`
	IncludeDrafts *bool    `json:"include_drafts,omitempty" jsonschema:"also rank the orders created in this run (default true)"`
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

type prioritizeOut struct {
	Formula string   `json:"formula"`
	Ranked  []ranked `json:"ranked"`
}

// categoryWeight ranks failure categories by what a failure costs a plant.
var categoryWeight = map[string]float64{
	"Electrical Failures": 15, "Structural and Mechanical Failures": 12, "Leaks and Seepage": 10,
	"Control System Failures": 8, "Operational Failures": 6, "Corrosion and Wear": 5, "External Influences": 4,
	"Human Factors": 3, "Maintenance and Routine Checks": 0,
}

const formula = "score = 10 × (6 − work_priority) + category weight (electrical 15, mechanical 12, leaks 10, control 8, " +
	"operational 6, corrosion 5, external 4, human 3, routine 0) + 2 × orders with the same primary code on the equipment " +
	"in the year before (at most 10) + 10 if corrective"

func (t *woTools) prioritize(ctx context.Context, in prioritizeIn) (prioritizeOut, error) {
	var orders []fixtures.WorkOrder
	drafts := map[string]bool{}
	if len(in.WorkOrderIDs) > 0 && in.EquipmentID == "" {
		return prioritizeOut{}, errors.New("give equipment_id with work_order_ids: ids are looked up in its history")
	}
	want := map[string]bool{} // the ids asked for, history and drafts alike
	for _, id := range in.WorkOrderIDs {
		want[strings.ToUpper(strings.TrimSpace(id))] = true
	}
	found := 0
	if in.EquipmentID != "" {
		keep := func(w fixtures.WorkOrder) bool { return !w.Preventive }
		if len(want) > 0 {
			keep = func(w fixtures.WorkOrder) bool { return want[strings.ToUpper(w.ID)] }
		}
		got, err := t.orders(ctx, rangeIn{in.EquipmentID, in.StartDate, in.EndDate}, keep)
		if err != nil {
			return prioritizeOut{}, err
		}
		orders, found = got.WorkOrders, len(got.WorkOrders)
	}
	// Drafts named by id are ranked whatever include_drafts says.
	if len(want) > 0 || in.IncludeDrafts == nil || *in.IncludeDrafts {
		created, err := readDrafts(tools.EnvFrom(ctx))
		if err != nil {
			return prioritizeOut{}, err
		}
		for _, d := range created {
			named := want[strings.ToUpper(d.ID)]
			if named {
				found++
			}
			if named || len(want) == 0 {
				orders = append(orders, d.WorkOrder)
				drafts[d.ID] = true
			}
		}
	}
	// Count distinct ids: an id given twice is one order, not a missing one.
	if found < len(want) {
		return prioritizeOut{}, fmt.Errorf("%d of the %d work orders are neither in %s's history nor drafts of this run", len(want)-found, len(want), in.EquipmentID)
	}
	if len(orders) == 0 {
		return prioritizeOut{}, errors.New("no work orders to rank: give equipment_id (and dates or work_order_ids), or create some first")
	}
	cat, err := t.catalog(ctx)
	if err != nil {
		return prioritizeOut{}, err
	}
	out := prioritizeOut{Formula: formula, Ranked: []ranked{}}
	for _, w := range orders {
		r := ranked{WorkOrderID: w.ID, EquipmentID: w.EquipmentID, PrimaryCode: w.PrimaryCode, Description: w.Description,
			Priority: w.Priority, Preventive: w.Preventive, Draft: drafts[w.ID]}
		r.Score = 10 * float64(6-w.Priority)
		r.Reasons = append(r.Reasons, fmt.Sprintf("priority %d: %+g", w.Priority, r.Score))
		category := cat.byPrimary[w.PrimaryCode].Category
		if wt := categoryWeight[category]; wt > 0 {
			r.Score += wt
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s: %+g", category, wt))
		}
		before, err := t.store.WorkOrders(ctx, w.EquipmentID, w.ActualFinish.AddDate(-1, 0, 0), w.ActualFinish.Time)
		if err != nil {
			return prioritizeOut{}, err
		}
		same := 0
		for _, b := range before {
			if b.PrimaryCode == w.PrimaryCode && b.ID != w.ID {
				same++
			}
		}
		if rec := min(2*float64(same), 10); rec > 0 {
			r.Score += rec
			r.Reasons = append(r.Reasons, fmt.Sprintf("%d earlier %s orders in the year before: %+g", same, w.PrimaryCode, rec))
		}
		if !w.Preventive {
			r.Score += 10
			r.Reasons = append(r.Reasons, "corrective: +10")
		}
		out.Ranked = append(out.Ranked, r)
	}
	sort.SliceStable(out.Ranked, func(i, j int) bool {
		a, b := out.Ranked[i], out.Ranked[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.WorkOrderID < b.WorkOrderID
	})
	for i := range out.Ranked {
		out.Ranked[i].Rank = i + 1
	}
	return out, nil
}

// DraftsFile holds the orders created in a run, one JSON object a line.
const DraftsFile = "work_orders_created.jsonl"

// Draft is a work order created in a run's sandbox.
type Draft struct {
	fixtures.WorkOrder
	Status  string `json:"status"` // WAPPR: waiting for approval
	Created string `json:"created"`
	DueDate string `json:"due_date,omitempty"`
}

func readDrafts(env tools.Env) ([]Draft, error) {
	if env.OutDir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(env.OutDir, DraftsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the created work orders: %w", err)
	}
	var out []Draft
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var d Draft
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("%s: %w", DraftsFile, err)
		}
		out = append(out, d)
	}
	return out, sc.Err()
}

type createIn struct {
	EquipmentID   string `json:"equipment_id" jsonschema:"equipment id, e.g. CWC04009"`
	PrimaryCode   string `json:"primary_code" jsonschema:"failure code from the catalog, e.g. M013"`
	SecondaryCode string `json:"secondary_code,omitempty" jsonschema:"secondary code of the primary code; its first when empty"`
	Description   string `json:"description" jsonschema:"what to do, at most 200 characters"`
	Priority      int    `json:"priority,omitempty" jsonschema:"1 (urgent) to 5 (routine); default 3"`
	Preventive    bool   `json:"preventive,omitempty" jsonschema:"true for preventive work; corrective by default"`
	DueDate       string `json:"due_date,omitempty" jsonschema:"YYYY-MM-DD, not before today"`
}

type createOut struct {
	WorkOrder Draft  `json:"work_order"`
	FilePath  string `json:"file_path"`
	Message   string `json:"message"`
}

// create validates a new order and appends it to the run's sandbox file.
func (t *woTools) create(ctx context.Context, in createIn) (createOut, error) {
	env := tools.EnvFrom(ctx)
	if env.OutDir == "" {
		return createOut{}, fmt.Errorf("cannot create work orders: %w", tools.ErrNoOutDir)
	}
	e, err := t.equipment(ctx, in.EquipmentID)
	if err != nil {
		return createOut{}, err
	}
	desc := strings.TrimSpace(in.Description)
	if desc == "" || len([]rune(desc)) > 200 {
		return createOut{}, fmt.Errorf("description must have 1 to 200 characters, has %d", len([]rune(desc)))
	}
	prio := in.Priority
	if prio == 0 {
		prio = 3
	}
	if prio < 1 || prio > 5 {
		return createOut{}, fmt.Errorf("priority %d out of range 1..5", in.Priority)
	}
	all, err := t.store.FailureCodes(ctx)
	if err != nil {
		return createOut{}, err
	}
	var code *fixtures.FailureCode
	var secondaries []string
	for i, c := range all {
		if !strings.EqualFold(c.PrimaryCode, strings.TrimSpace(in.PrimaryCode)) {
			continue
		}
		secondaries = append(secondaries, c.SecondaryCode)
		if (code == nil && in.SecondaryCode == "") || strings.EqualFold(c.SecondaryCode, strings.TrimSpace(in.SecondaryCode)) {
			code = &all[i]
		}
	}
	switch {
	case len(secondaries) == 0:
		return createOut{}, fmt.Errorf("unknown primary code %q (see wo.get_failure_codes)", in.PrimaryCode)
	case code == nil:
		return createOut{}, fmt.Errorf("primary code %s has no secondary code %q (secondary codes: %s)", in.PrimaryCode, in.SecondaryCode, strings.Join(secondaries, ", "))
	}
	if in.DueDate != "" {
		due, err := parseDay(in.DueDate, time.Time{})
		if err != nil {
			return createOut{}, fmt.Errorf("due_date: %w", err)
		}
		if today := time.Date(env.Now.Year(), env.Now.Month(), env.Now.Day(), 0, 0, 0, 0, time.UTC); due.Before(today) {
			return createOut{}, fmt.Errorf("due_date %s is before today, %s", in.DueDate, env.Now.Format("2006-01-02"))
		}
	}
	existing, err := readDrafts(env)
	if err != nil {
		return createOut{}, err
	}
	d := Draft{
		WorkOrder: fixtures.WorkOrder{
			ID: fmt.Sprintf("NEW-%04d", len(existing)+1), Description: desc, Collection: "",
			PrimaryCode: code.PrimaryCode, PrimaryCodeDescription: code.PrimaryCodeDescription,
			SecondaryCode: code.SecondaryCode, SecondaryCodeDescription: code.SecondaryCodeDescription,
			EquipmentID: e.ID, EquipmentName: e.Name, Preventive: in.Preventive, Priority: prio,
			ActualFinish: fixtures.LocalTime{Time: env.Now},
		},
		Status: "WAPPR", Created: fixtures.LocalTime{Time: env.Now}.String(), DueDate: in.DueDate,
	}
	line, err := json.Marshal(d)
	if err != nil {
		return createOut{}, err
	}
	if err := os.MkdirAll(env.OutDir, 0o755); err != nil {
		return createOut{}, fmt.Errorf("output folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(env.OutDir, DraftsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return createOut{}, fmt.Errorf("create work order: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return createOut{}, fmt.Errorf("create work order: %w", err)
	}
	if err := f.Close(); err != nil {
		return createOut{}, fmt.Errorf("create work order: %w", err)
	}
	return createOut{WorkOrder: d, FilePath: DraftsFile,
		Message: fmt.Sprintf("created %s on %s, waiting for approval; the plant's records are unchanged", d.ID, e.ID)}, nil
}
