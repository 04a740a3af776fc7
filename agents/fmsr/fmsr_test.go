package fmsr_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/fmsr"
	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// dataset is the raw tables the expected answers are computed from;
// generating them takes a second, so once per test binary.
var dataset = sync.OnceValue(func() *fixtures.Dataset { return fixtures.Generate(fixtures.DefaultSeed) })

func rawAsset(t testing.TB, id string) *fixtures.Asset {
	t.Helper()
	d := dataset()
	for i := range d.Assets {
		if d.Assets[i].ID == id {
			return &d.Assets[i]
		}
	}
	t.Fatalf("no asset %q in the raw tables", id)
	return nil
}

// The results as an agent reads them.
type (
	failureModesOut struct {
		AssetName    string                 `json:"asset_name"`
		AssetClass   string                 `json:"asset_class"`
		Total        int                    `json:"total"`
		FailureModes []fixtures.FailureMode `json:"failure_modes"`
	}
	metadata struct {
		AssetName    string   `json:"asset_name"`
		AssetClass   string   `json:"asset_class"`
		FailureModes []string `json:"failure_modes"`
		Sensors      []string `json:"sensors"`
		Source       string   `json:"source"`
	}
	mappingOut struct {
		Metadata      metadata            `json:"metadata"`
		FM2Sensor     map[string][]string `json:"fm2sensor"`
		Sensor2FM     map[string][]string `json:"sensor2fm"`
		FullRelevancy []fmsr.Relevancy    `json:"full_relevancy"`
	}
	readOut struct {
		FilePath     string   `json:"file_path"`
		TotalSensors int      `json:"total_sensors"`
		Sensors      []string `json:"sensors"`
	}
)

// unordered compares lists whose order the tools do not promise: the
// store's order of failure modes and catalog sensors.
var unordered = cmp.Options{
	cmpopts.SortSlices(func(a, b string) bool { return a < b }),
	cmpopts.SortSlices(func(a, b fixtures.FailureMode) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b fmsr.Relevancy) bool {
		return a.FailureMode+"\x00"+a.Sensor < b.FailureMode+"\x00"+b.Sensor
	}),
}

func rawModes(class string) []fixtures.FailureMode {
	var out []fixtures.FailureMode
	for _, fm := range dataset().FailureModes {
		if fm.AssetClass == class {
			out = append(out, fm)
		}
	}
	return out
}

func TestGetFailureModes(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []struct{ name, class string }{
		{"Chiller 6", "chiller"},
		{"chiller", "chiller"},
		{"CHILLER", "chiller"},
		{"  Chiller   9 ", "chiller"},
		{"CQPA AHU 2B", "ahu"},
		{"cqpa ahu 1", "ahu"},
		{"AHU", "ahu"},
		{"Air Handling Unit 3", "ahu"},
		{"Cooling Tower 2", "cooling tower"},
		{"cooling  tower", "cooling tower"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			modes := rawModes(tt.class)
			if len(modes) == 0 {
				t.Fatalf("no %s failure modes in the raw tables", tt.class)
			}
			want := failureModesOut{AssetName: tt.name, AssetClass: tt.class, Total: len(modes), FailureModes: modes}
			got := agentstest.Call[failureModesOut](t, context.Background(), reg, "fmsr.get_failure_modes", map[string]string{"asset_name": tt.name})
			if diff := cmp.Diff(want, got, unordered); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The reasons the mapping gives for pairs without a recorded signature.
const (
	reasonNo      = "this failure mode's recorded signature does not include this sensor"
	reasonUnknown = "no sensor signature is recorded for this failure mode"
)

// wantMapping computes the ground-truth mapping from the raw relevance
// table: Yes for a recorded pair, No for another sensor of a failure mode
// with a recorded signature, Unknown for a failure mode with none.
func wantMapping(t testing.TB, name, class string, asset *fixtures.Asset, modes, sensors []string) mappingOut {
	t.Helper()
	d := dataset()
	out := mappingOut{
		Metadata:  metadata{AssetName: name, AssetClass: class, FailureModes: modes, Sensors: sensors, Source: "the plant's recorded fault signatures"},
		FM2Sensor: map[string][]string{}, Sensor2FM: map[string][]string{}, FullRelevancy: []fmsr.Relevancy{},
	}
	for _, fm := range modes {
		for _, s := range sensors {
			typ := s
			if asset != nil {
				typ = strings.TrimPrefix(s, asset.ID+" ")
			}
			r := fmsr.Relevancy{AssetName: name, FailureMode: fm, Sensor: s, RelevancyAnswer: "Unknown", RelevancyReason: reasonUnknown, TemporalBehavior: "Unknown"}
			for _, rel := range d.Relevance {
				if rel.AssetClass != class || rel.FailureMode != fm {
					continue
				}
				if rel.Sensor == typ {
					r.RelevancyAnswer, r.RelevancyReason, r.TemporalBehavior = "Yes", rel.Reason, rel.Behavior
					break
				}
				r.RelevancyAnswer, r.RelevancyReason = "No", reasonNo
			}
			out.FullRelevancy = append(out.FullRelevancy, r)
			if r.RelevancyAnswer == "Yes" {
				out.FM2Sensor[fm] = append(out.FM2Sensor[fm], s)
				out.Sensor2FM[s] = append(out.Sensor2FM[s], fm)
			}
		}
	}
	return out
}

func TestGetFailureModeSensorMapping(t *testing.T) {
	reg := agentstest.Registry(t)
	modeNames := func(class string) []string {
		var out []string
		for _, fm := range rawModes(class) {
			out = append(out, fm.FailureMode)
		}
		return out
	}
	classSensors := func(class string) []string {
		var out []string
		for _, c := range dataset().Sensors {
			if c.Class == class {
				out = append(out, c.Name)
			}
		}
		return out
	}
	tests := []struct {
		name         string
		asset        string // the asset_name argument
		id           string // the asset it names, "" for a class
		class        string
		modes        []string // the failure_modes argument
		sensors      []string // the sensors argument
		wantModes    []string
		wantSensors  []string
		wantYes      bool // the case must hold at least one Yes
		wantNoAnswer bool // and at least one Unknown
	}{
		{name: "chiller asset, everything", asset: "Chiller 6", id: "Chiller 6", class: "chiller",
			wantModes: modeNames("chiller"), wantSensors: rawAsset(t, "Chiller 6").Sensors, wantYes: true, wantNoAnswer: true},
		{name: "chiller class, sensor types", asset: "chiller", class: "chiller",
			wantModes: modeNames("chiller"), wantSensors: classSensors("chiller"), wantYes: true, wantNoAnswer: true},
		{name: "ahu asset, everything", asset: "CQPA AHU 2B", id: "CQPA AHU 2B", class: "ahu",
			wantModes: modeNames("ahu"), wantSensors: rawAsset(t, "CQPA AHU 2B").Sensors, wantYes: true, wantNoAnswer: true},
		{name: "ahu asset, subsets by suffix and case", asset: "cqpa ahu 1", id: "CQPA AHU 1", class: "ahu",
			modes:       []string{"supply fan motor failure", " Belts or Sheaves Wear and tear", "Air Filters Clogging"},
			sensors:     []string{"Supply Fan Output %", "CQPA AHU 1 Power (Calc)", "supply fan status", "Mixed Air Temperature"},
			wantModes:   []string{"Supply Fan Motor failure", "Belts or Sheaves Wear and tear", "Air Filters Clogging"},
			wantSensors: []string{"CQPA AHU 1 Supply Fan Output %", "CQPA AHU 1 Power (Calc)", "CQPA AHU 1 Supply Fan Status", "CQPA AHU 1 Mixed Air Temperature"},
			wantYes:     true, wantNoAnswer: true},
		{name: "chiller class, one mode, types", asset: "Chiller", class: "chiller",
			modes: []string{"Refrigerant Circuit Low refrigerant charge"}, sensors: []string{"chiller efficiency", "Supply Temperature", "Schedule"},
			wantModes: []string{"Refrigerant Circuit Low refrigerant charge"}, wantSensors: []string{"Chiller Efficiency", "Supply Temperature", "Schedule"}, wantYes: true},
		{name: "cooling tower: no signatures recorded", asset: "Cooling Tower 1", class: "cooling tower",
			wantModes: modeNames("cooling tower"), wantSensors: classSensors("cooling tower")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asset *fixtures.Asset
			if tt.id != "" {
				asset = rawAsset(t, tt.id)
			}
			want := wantMapping(t, tt.asset, tt.class, asset, tt.wantModes, tt.wantSensors)
			answers := map[string]int{}
			for _, r := range want.FullRelevancy {
				answers[r.RelevancyAnswer]++
			}
			if tt.wantYes && answers["Yes"] == 0 || tt.wantNoAnswer && answers["Unknown"] == 0 {
				t.Fatalf("answers %v: the case does not test what it says", answers)
			}
			args := map[string]any{"asset_name": tt.asset}
			if tt.modes != nil {
				args["failure_modes"] = tt.modes
			}
			if tt.sensors != nil {
				args["sensors"] = tt.sensors
			}
			got := agentstest.Call[mappingOut](t, context.Background(), reg, "fmsr.get_failure_mode_sensor_mapping", args)
			if diff := cmp.Diff(want, got, unordered, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Every recorded signature of a class shows up as a Yes in the class's
// mapping, and nothing else does.
func TestMappingCoversRelevanceTable(t *testing.T) {
	reg := agentstest.Registry(t)
	for _, class := range []string{"chiller", "ahu"} {
		got := agentstest.Call[mappingOut](t, context.Background(), reg, "fmsr.get_failure_mode_sensor_mapping", map[string]string{"asset_name": class})
		var want, yes []string
		for _, r := range dataset().Relevance {
			if r.AssetClass == class {
				want = append(want, r.FailureMode+" / "+r.Sensor+" / "+r.Behavior)
			}
		}
		for _, r := range got.FullRelevancy {
			if r.RelevancyAnswer == "Yes" {
				yes = append(yes, r.FailureMode+" / "+r.Sensor+" / "+r.TemporalBehavior)
			}
		}
		if diff := cmp.Diff(want, yes, unordered); diff != "" || len(want) == 0 {
			t.Errorf("%s: Yes pairs vs the relevance table (-want +got):\n%s", class, diff)
		}
	}
}

// fakeModel answers every chat with a canned reply chosen by the prompt,
// and keeps the requests.
type fakeModel struct {
	mu    sync.Mutex
	reqs  []llm.ChatRequest
	reply func(prompt string) (string, error)
}

func (m *fakeModel) Chat(_ context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, *req)
	m.mu.Unlock()
	content, err := m.reply(req.Messages[len(req.Messages)-1].Content)
	if err != nil {
		return nil, err
	}
	return &llm.ChatResponse{Model: req.Model, Message: llm.Message{Role: "assistant", Content: content}, Done: true}, nil
}

func (m *fakeModel) Embed(context.Context, *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	return nil, errors.New("fake model: no embeddings")
}

func (m *fakeModel) Show(_ context.Context, model string) (*llm.ModelInfo, error) {
	return &llm.ModelInfo{Name: model}, nil
}

// cannedReply is what the model says about a sensor, and how the tool
// must read it.
type cannedReply struct {
	sensorSuffix, text       string
	answer, reason, behavior string
}

var cannedReplies = []cannedReply{
	{"Tonnage", "Yes\nCooling output drops when the circuit is short of refrigerant.\nfalling",
		"Yes", "Cooling output drops when the circuit is short of refrigerant.", "falling"},
	{"Power Input", "Line 1: yes.\n\nLine 2: The compressor works harder.\nLine 3: rising",
		"Yes", "The compressor works harder.", "rising"},
	{"Run Status", "No\nThe run status does not change.\nflat",
		"No", "The run status does not change.", "Unknown"},
	{"Schedule", "I cannot tell.", "Unknown", "Unknown", "Unknown"},
	{"Supply Fan Current", "1. **Yes**\n2. A failing motor draws more current.\n3. spiking",
		"Yes", "A failing motor draws more current.", "spiking"},
	{"Duct Static Pressure", "", "Unknown", "Unknown", "Unknown"},
}

// sensorInPrompt is how the prompt names the sensor asked about.
var sensorInPrompt = regexp.MustCompile(`can the sensor "([^"]*)"`)

func canned(prompt string) (string, error) {
	m := sensorInPrompt.FindStringSubmatch(prompt)
	if m == nil {
		return "", errors.New("fake model: no sensor in the prompt")
	}
	for _, c := range cannedReplies {
		if strings.HasSuffix(m[1], c.sensorSuffix) {
			return c.text, nil
		}
	}
	return "No\nUnrelated.", nil
}

func TestGenerateFailureModeSensorMapping(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []struct {
		name, asset   string
		modes         []string
		sensors       []string
		wantModes     []string
		wantSensors   []string
		class, source string
	}{
		{name: "chiller", asset: "Chiller 6", class: "chiller",
			modes:       []string{"Refrigerant Circuit Low refrigerant charge", "condenser water side fouling"},
			sensors:     []string{"Tonnage", "chiller 6 power input", "Run Status", "Schedule"},
			wantModes:   []string{"Refrigerant Circuit Low refrigerant charge", "Condenser Water side fouling"},
			wantSensors: []string{"Chiller 6 Tonnage", "Chiller 6 Power Input", "Chiller 6 Run Status", "Chiller 6 Schedule"}},
		{name: "ahu", asset: "CQPA AHU 2B", class: "ahu",
			modes:       []string{"Supply Fan Motor failure"},
			sensors:     []string{"Supply Fan Current", "Duct Static Pressure", "Supply Fan Status"},
			wantModes:   []string{"Supply Fan Motor failure"},
			wantSensors: []string{"CQPA AHU 2B Supply Fan Current", "CQPA AHU 2B Duct Static Pressure", "CQPA AHU 2B Supply Fan Status"}},
		{name: "class and sensor types", asset: "chiller", class: "chiller",
			modes:       []string{"Purge Unit Excessive purge"},
			sensors:     []string{"Tonnage", "Schedule"},
			wantModes:   []string{"Purge Unit Excessive purge"},
			wantSensors: []string{"Tonnage", "Schedule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := &fakeModel{reply: canned}
			opts := llm.DefaultOptions()
			ctx := tools.WithEnv(context.Background(), tools.Env{Model: model, ModelName: "fake-llm", Options: opts})
			got := agentstest.Call[mappingOut](t, ctx, reg, "fmsr.generate_failure_mode_sensor_mapping",
				map[string]any{"asset_name": tt.asset, "failure_modes": tt.modes, "sensors": tt.sensors})

			want := mappingOut{
				Metadata:  metadata{AssetName: tt.asset, AssetClass: tt.class, FailureModes: tt.wantModes, Sensors: tt.wantSensors, Source: "language model fake-llm"},
				FM2Sensor: map[string][]string{}, Sensor2FM: map[string][]string{},
			}
			wantAsked := map[string]bool{}
			for _, fm := range tt.wantModes {
				for _, s := range tt.wantSensors {
					r := fmsr.Relevancy{AssetName: tt.asset, FailureMode: fm, Sensor: s, RelevancyAnswer: "No", RelevancyReason: "Unrelated.", TemporalBehavior: "Unknown"}
					for _, c := range cannedReplies {
						if strings.HasSuffix(s, c.sensorSuffix) {
							r.RelevancyAnswer, r.RelevancyReason, r.TemporalBehavior = c.answer, c.reason, c.behavior
						}
					}
					want.FullRelevancy = append(want.FullRelevancy, r)
					if r.RelevancyAnswer == "Yes" {
						want.FM2Sensor[fm] = append(want.FM2Sensor[fm], s)
						want.Sensor2FM[s] = append(want.Sensor2FM[s], fm)
					}
					wantAsked[fm+" / "+s] = true
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}

			// One question per pair, to the run's model with the run's options.
			asked := map[string]bool{}
			for _, req := range model.reqs {
				if req.Model != "fake-llm" || len(req.Messages) != 1 || req.Messages[0].Role != "user" {
					t.Errorf("request to %q with messages %+v", req.Model, req.Messages)
					continue
				}
				if diff := cmp.Diff(opts, req.Options); diff != "" {
					t.Errorf("options (-want +got):\n%s", diff)
				}
				p := req.Messages[0].Content
				if !strings.Contains(p, `asset "`+tt.asset+`"`) {
					t.Errorf("prompt does not name the asset %q: %s", tt.asset, p)
				}
				for _, fm := range tt.wantModes {
					for _, s := range tt.wantSensors {
						if strings.Contains(p, `failure "`+fm+`"`) && strings.Contains(p, `sensor "`+s+`"`) {
							asked[fm+" / "+s] = true
						}
					}
				}
			}
			if len(model.reqs) != len(wantAsked) {
				t.Errorf("%d model calls, want one per pair: %d", len(model.reqs), len(wantAsked))
			}
			if diff := cmp.Diff(wantAsked, asked); diff != "" {
				t.Errorf("pairs asked (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerateFailureModeSensorMappingErrors(t *testing.T) {
	reg := agentstest.Registry(t)
	var five []string
	for _, fm := range rawModes("chiller")[:5] {
		five = append(five, fm.FailureMode)
	}
	tenSensors := rawAsset(t, "Chiller 6").Sensors[:10]
	tests := []struct {
		name    string
		args    map[string]any
		model   llm.Model
		wantErr string
		wantIs  error
	}{
		{name: "no model", args: map[string]any{"asset_name": "Chiller 6", "failure_modes": five[:1], "sensors": []string{"Tonnage"}},
			wantErr: "none is configured", wantIs: fmsr.ErrNoModel},
		{name: "too many pairs", args: map[string]any{"asset_name": "Chiller 6"}, model: &fakeModel{reply: canned},
			wantErr: "18 failure modes × 13 sensors = 234 pairs, more than the 50"},
		{name: "just over the bound", args: map[string]any{"asset_name": "Chiller 6", "failure_modes": five[:4]}, model: &fakeModel{reply: canned},
			wantErr: "= 52 pairs, more than the 50"},
		{name: "model fails", args: map[string]any{"asset_name": "Chiller 6", "failure_modes": five[:1], "sensors": []string{"Tonnage"}},
			model:   &fakeModel{reply: func(string) (string, error) { return "", errors.New("connection refused") }},
			wantErr: "ask the model about " + five[0] + " and Chiller 6 Tonnage: connection refused"},
		{name: "unknown failure mode", args: map[string]any{"asset_name": "Chiller 6", "failure_modes": []string{"Flux capacitor"}}, model: &fakeModel{reply: canned},
			wantErr: `the chiller FMEA has no failure mode "Flux capacitor"`},
		{name: "unknown sensor", args: map[string]any{"asset_name": "CQPA AHU 1", "sensors": []string{"Duct Static Pressure"}}, model: &fakeModel{reply: canned},
			wantErr: `CQPA AHU 1 has no sensor "Duct Static Pressure"`},
		{name: "unknown class", args: map[string]any{"asset_name": "Wind Turbine 2"}, model: &fakeModel{reply: canned},
			wantErr: `no failure modes for asset class "wind turbine" (classes: ahu, chiller, cooling tower)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(tt.args)
			ctx := tools.WithEnv(context.Background(), tools.Env{Model: tt.model, ModelName: "fake-llm"})
			out, err := reg.Call(ctx, "fmsr.generate_failure_mode_sensor_mapping", b)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %q; got %.200s", err, tt.wantErr, out)
			}
			// A refused call asks the model nothing, or only until it fails.
			if m, ok := tt.model.(*fakeModel); ok && len(m.reqs) > 1 {
				t.Errorf("%d model calls for a refused call", len(m.reqs))
			}
		})
	}
	// Exactly the bound is allowed.
	model := &fakeModel{reply: canned}
	ctx := tools.WithEnv(context.Background(), tools.Env{Model: model, ModelName: "fake-llm"})
	got := agentstest.Call[mappingOut](t, ctx, reg, "fmsr.generate_failure_mode_sensor_mapping",
		map[string]any{"asset_name": "Chiller 6", "failure_modes": five, "sensors": tenSensors})
	if len(got.FullRelevancy) != fmsr.MaxGeneratedPairs || len(model.reqs) != fmsr.MaxGeneratedPairs {
		t.Errorf("%d pairs, %d model calls; want %d of each", len(got.FullRelevancy), len(model.reqs), fmsr.MaxGeneratedPairs)
	}
}

func TestMappingErrors(t *testing.T) {
	reg := agentstest.Registry(t)
	tests := []struct{ tool, args, wantErr, wantKind string }{
		{"fmsr.get_failure_modes", `{"asset_name":"Wind Turbine 2"}`, `no failure modes for asset class "wind turbine" (classes: ahu, chiller, cooling tower)`, tools.KindFailed},
		{"fmsr.get_failure_modes", `{"asset_name":""}`, `no failure modes for asset class ""`, tools.KindFailed},
		{"fmsr.get_failure_modes", `{}`, "invalid arguments for fmsr.get_failure_modes", tools.KindArguments},
		{"fmsr.get_failure_mode_sensor_mapping", `{"asset_name":"Chiller 6","failure_modes":["Flux capacitor"]}`, `the chiller FMEA has no failure mode "Flux capacitor"`, tools.KindFailed},
		{"fmsr.get_failure_mode_sensor_mapping", `{"asset_name":"CQPA AHU 1","sensors":["Duct Static Pressure"]}`, `CQPA AHU 1 has no sensor "Duct Static Pressure"`, tools.KindFailed},
		// A class takes sensor types, not an asset's full names.
		{"fmsr.get_failure_mode_sensor_mapping", `{"asset_name":"chiller","sensors":["Chiller 6 Tonnage"]}`, `chiller has no sensor "Chiller 6 Tonnage"`, tools.KindFailed},
		{"fmsr.get_failure_mode_sensor_mapping", `{"asset_name":"Chiller 6","sensors":"Tonnage"}`, "invalid arguments for fmsr.get_failure_mode_sensor_mapping", tools.KindArguments},
		{"fmsr.read_sensors_from_file", `{"path":"x.json"}`, "invalid arguments for fmsr.read_sensors_from_file", tools.KindArguments},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.args, func(t *testing.T) {
			out, err := reg.Call(context.Background(), tt.tool, json.RawMessage(tt.args))
			if err == nil {
				t.Fatalf("no error; got %.200s", out)
			}
			var res struct{ Error, Kind string }
			if err := json.Unmarshal(tools.ErrorResult(err), &res); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Error, tt.wantErr) || res.Kind != tt.wantKind {
				t.Errorf("error %q of kind %s, want %q of kind %s", res.Error, res.Kind, tt.wantErr, tt.wantKind)
			}
		})
	}
}

func TestReadSensorsFromFile(t *testing.T) {
	reg := agentstest.Registry(t)
	root := t.TempDir()
	out := filepath.Join(root, "run")
	ctx := tools.WithEnv(context.Background(), tools.Env{OutDir: out})
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Files the IoT tools write, read back as an agent would.
	filePath := func(tool, args string) string {
		t.Helper()
		b, err := reg.Call(ctx, tool, json.RawMessage(args))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			FilePath string `json:"file_path"`
		}
		if err := json.Unmarshal(b, &res); err != nil || res.FilePath == "" {
			t.Fatalf("%s wrote no file: %v", tool, err)
		}
		return res.FilePath
	}
	sensorsFile := filePath("iot.sensors", `{"site_name":"MAIN","asset_id":"CQPA AHU 1"}`)
	historyFile := filePath("iot.history", `{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-01","end":"2020-06-03","sensors":["Tonnage","Power Input"]}`)
	write(filepath.Join(out, "list.json"), `["Chiller 6 Tonnage", "Chiller 6 Power Input"]`)
	write(filepath.Join(out, "sub", "empty.json"), `{"sensors": []}`)
	write(filepath.Join(out, "null.json"), `{"sensors": null}`)
	write(filepath.Join(out, "other.json"), `{"x": 1}`)
	write(filepath.Join(out, "text.txt"), `Chiller 6 Tonnage`)
	write(filepath.Join(root, "outside.json"), `["secret"]`)
	if err := os.Symlink(filepath.Join(root, "outside.json"), filepath.Join(out, "link.json")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path string
		want       []string
		wantErr    string
	}{
		{name: "iot.sensors file", path: sensorsFile, want: rawAsset(t, "CQPA AHU 1").Sensors},
		{name: "iot.history file", path: historyFile, want: []string{"Chiller 9 Tonnage", "Chiller 9 Power Input"}},
		{name: "plain list", path: "list.json", want: []string{"Chiller 6 Tonnage", "Chiller 6 Power Input"}},
		{name: "absolute inside", path: filepath.Join(out, "list.json"), want: []string{"Chiller 6 Tonnage", "Chiller 6 Power Input"}},
		{name: "empty list", path: "sub/empty.json", want: []string{}},
		{name: "null list", path: "null.json", wantErr: "null.json holds no sensor list"},
		{name: "other object", path: "other.json", wantErr: "other.json holds no sensor list"},
		{name: "not JSON", path: "text.txt", wantErr: "text.txt holds no sensor list"},
		{name: "missing", path: "nope.json", wantErr: `no file "nope.json" in the run's output folder`},
		{name: "climbs out", path: "../outside.json", wantErr: `file "../outside.json" is outside the run's output folder`},
		{name: "absolute outside", path: filepath.Join(root, "outside.json"), wantErr: "is outside the run's output folder"},
		{name: "symlink out", path: "link.json", wantErr: `file "link.json" is outside the run's output folder`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]string{"file_path": tt.path})
			raw, err := reg.Call(ctx, "fmsr.read_sensors_from_file", b)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q; got %.200s", err, tt.wantErr, raw)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got readOut
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			want := readOut{FilePath: tt.path, TotalSensors: len(tt.want), Sensors: tt.want}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("no output folder", func(t *testing.T) {
		_, err := reg.Call(context.Background(), "fmsr.read_sensors_from_file", json.RawMessage(`{"file_path":"list.json"}`))
		if !errors.Is(err, tools.ErrNoOutDir) {
			t.Errorf("err = %v, want %v", err, tools.ErrNoOutDir)
		}
	})
}
