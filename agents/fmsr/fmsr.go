// Package fmsr provides the failure-mode and sensor-relevancy agent's tools:
// the FMEA failure modes of an asset class, which sensors show which failure
// mode (from the dataset's ground truth, or asked of a model), and sensor
// lists written to files by other tools.
package fmsr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
)

// Store is the data the FMSR tools read.
type Store interface {
	Assets(ctx context.Context) ([]fixtures.Asset, error)
	FailureModes(ctx context.Context) ([]fixtures.FailureMode, error)
	Relevance(ctx context.Context) ([]fixtures.Relevance, error)
	SensorCatalog(ctx context.Context) ([]fixtures.SensorInfo, error)
}

// MaxGeneratedPairs bounds the model calls of one generated mapping.
const MaxGeneratedPairs = 50

// Tools returns the FMSR tools over a store.
func Tools(s Store) []tools.Tool {
	t := &fmsrTools{store: s}
	return []tools.Tool{
		tools.New("fmsr.get_failure_modes",
			"Failure modes of an asset or asset class from the FMEA (\"Chiller 6\" and \"chiller\" both mean the chiller class).",
			t.getFailureModes),
		tools.New("fmsr.get_failure_mode_sensor_mapping",
			"Which sensors show which failure modes of an asset or class, how (rising, falling, spiking, dropping) and why, from the "+
				"plant's recorded fault signatures. Relevancy is Yes, No, or Unknown for failure modes whose signatures are not recorded. "+
				"Empty lists mean all failure modes of the class and all sensors of the asset.",
			t.getMapping),
		tools.New("fmsr.generate_failure_mode_sensor_mapping",
			fmt.Sprintf("Ask the language model, pair by pair, whether each sensor can detect each failure mode (at most %d pairs). "+
				"For assets or failure modes the recorded signatures do not cover.", MaxGeneratedPairs),
			t.generateMapping),
		tools.New("fmsr.read_sensors_from_file",
			"Read a list of sensors from a file another tool wrote (iot.sensors or iot.history), by its file_path.",
			t.readSensors),
	}
}

type fmsrTools struct{ store Store }

type failureModesIn struct {
	AssetName string `json:"asset_name" jsonschema:"asset or asset class, e.g. Chiller 6 or chiller"`
}

type failureModesOut struct {
	AssetName    string                 `json:"asset_name"`
	AssetClass   string                 `json:"asset_class"`
	Total        int                    `json:"total"`
	FailureModes []fixtures.FailureMode `json:"failure_modes"`
}

func (t *fmsrTools) getFailureModes(ctx context.Context, in failureModesIn) (failureModesOut, error) {
	class, modes, err := t.modesOf(ctx, in.AssetName)
	if err != nil {
		return failureModesOut{}, err
	}
	return failureModesOut{AssetName: in.AssetName, AssetClass: class, Total: len(modes), FailureModes: modes}, nil
}

// modesOf resolves an asset or class name to its class and FMEA rows.
func (t *fmsrTools) modesOf(ctx context.Context, name string) (string, []fixtures.FailureMode, error) {
	rows, err := t.store.FailureModes(ctx)
	if err != nil {
		return "", nil, err
	}
	class := AssetClass(name)
	var out []fixtures.FailureMode
	classes := map[string]bool{}
	for _, r := range rows {
		classes[r.AssetClass] = true
		if r.AssetClass == class {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return "", nil, fmt.Errorf("no failure modes for asset class %q (classes: %s)", class, strings.Join(slices.Sorted(maps.Keys(classes)), ", "))
	}
	return class, out, nil
}

type mappingIn struct {
	AssetName    string   `json:"asset_name" jsonschema:"asset or asset class, e.g. Chiller 6 or chiller"`
	FailureModes []string `json:"failure_modes,omitempty" jsonschema:"failure modes as the FMEA names them; all of the class when empty"`
	Sensors      []string `json:"sensors,omitempty" jsonschema:"sensors, full (Chiller 6 Tonnage) or by type (Tonnage); all of the asset when empty"`
}

// Relevancy is one failure mode and sensor pair.
type Relevancy struct {
	AssetName        string `json:"asset_name"`
	FailureMode      string `json:"failure_mode"`
	Sensor           string `json:"sensor"`
	RelevancyAnswer  string `json:"relevancy_answer"` // Yes, No or Unknown
	RelevancyReason  string `json:"relevancy_reason"`
	TemporalBehavior string `json:"temporal_behavior"`
}

type mappingOut struct {
	Metadata struct {
		AssetName    string   `json:"asset_name"`
		AssetClass   string   `json:"asset_class"`
		FailureModes []string `json:"failure_modes"`
		Sensors      []string `json:"sensors"`
		Source       string   `json:"source"`
	} `json:"metadata"`
	FM2Sensor     map[string][]string `json:"fm2sensor"`
	Sensor2FM     map[string][]string `json:"sensor2fm"`
	FullRelevancy []Relevancy         `json:"full_relevancy"`
}

// pairs resolves the asset, its failure modes and its sensors.
func (t *fmsrTools) pairs(ctx context.Context, in mappingIn) (class string, modes []string, sensors []string, asset *fixtures.Asset, err error) {
	class, rows, err := t.modesOf(ctx, in.AssetName)
	if err != nil {
		return "", nil, nil, nil, err
	}
	if len(in.FailureModes) == 0 {
		for _, r := range rows {
			modes = append(modes, r.FailureMode)
		}
	}
	for _, want := range in.FailureModes {
		found := ""
		for _, r := range rows {
			if strings.EqualFold(strings.TrimSpace(want), r.FailureMode) {
				found = r.FailureMode
			}
		}
		if found == "" {
			var names []string
			for _, r := range rows {
				names = append(names, r.FailureMode)
			}
			return "", nil, nil, nil, fmt.Errorf("the %s FMEA has no failure mode %q (failure modes: %s)", class, want, strings.Join(names, "; "))
		}
		modes = append(modes, found)
	}
	assets, err := t.store.Assets(ctx)
	if err != nil {
		return "", nil, nil, nil, err
	}
	for i := range assets {
		if strings.EqualFold(assets[i].ID, strings.TrimSpace(in.AssetName)) {
			asset = &assets[i]
		}
	}
	// The sensors a name may mean: the asset's, or the class's types.
	var known []string
	if asset != nil {
		known = asset.Sensors
	} else {
		catalog, err := t.store.SensorCatalog(ctx)
		if err != nil {
			return "", nil, nil, nil, err
		}
		for _, c := range catalog {
			if c.Class == class {
				known = append(known, c.Name)
			}
		}
	}
	if len(in.Sensors) == 0 {
		sensors = known
	}
	for _, want := range in.Sensors {
		found := ""
		for _, k := range known {
			if strings.EqualFold(k, strings.TrimSpace(want)) || asset != nil && strings.EqualFold(k, asset.ID+" "+strings.TrimSpace(want)) {
				found = k
			}
		}
		if found == "" {
			return "", nil, nil, nil, fmt.Errorf("%s has no sensor %q (sensors: %s)", in.AssetName, want, strings.Join(known, ", "))
		}
		sensors = append(sensors, found)
	}
	return class, modes, sensors, asset, nil
}

// sensorType strips an asset's name from a full sensor name.
func sensorType(asset *fixtures.Asset, sensor string) string {
	if asset != nil {
		return strings.TrimPrefix(sensor, asset.ID+" ")
	}
	return sensor
}

func (t *fmsrTools) getMapping(ctx context.Context, in mappingIn) (mappingOut, error) {
	class, modes, sensors, asset, err := t.pairs(ctx, in)
	if err != nil {
		return mappingOut{}, err
	}
	rel, err := t.store.Relevance(ctx)
	if err != nil {
		return mappingOut{}, err
	}
	known := map[string]fixtures.Relevance{}
	modeled := map[string]bool{}
	for _, r := range rel {
		if r.AssetClass == class {
			known[r.FailureMode+"\x00"+r.Sensor] = r
			modeled[r.FailureMode] = true
		}
	}
	out := newMapping(in.AssetName, class, modes, sensors, "the plant's recorded fault signatures")
	for _, fm := range modes {
		for _, s := range sensors {
			r := Relevancy{AssetName: in.AssetName, FailureMode: fm, Sensor: s, TemporalBehavior: "Unknown"}
			switch k, ok := known[fm+"\x00"+sensorType(asset, s)]; {
			case ok:
				r.RelevancyAnswer, r.RelevancyReason, r.TemporalBehavior = "Yes", k.Reason, k.Behavior
			case modeled[fm]:
				r.RelevancyAnswer, r.RelevancyReason = "No", "this failure mode's recorded signature does not include this sensor"
			default:
				r.RelevancyAnswer, r.RelevancyReason = "Unknown", "no sensor signature is recorded for this failure mode"
			}
			out.add(r)
		}
	}
	return out, nil
}

func newMapping(asset, class string, modes, sensors []string, source string) mappingOut {
	var out mappingOut
	out.Metadata.AssetName, out.Metadata.AssetClass, out.Metadata.Source = asset, class, source
	out.Metadata.FailureModes, out.Metadata.Sensors = modes, append([]string{}, sensors...) // [] rather than null for a class without sensors
	out.FM2Sensor, out.Sensor2FM, out.FullRelevancy = map[string][]string{}, map[string][]string{}, []Relevancy{}
	return out
}

func (m *mappingOut) add(r Relevancy) {
	m.FullRelevancy = append(m.FullRelevancy, r)
	if r.RelevancyAnswer == "Yes" {
		m.FM2Sensor[r.FailureMode] = append(m.FM2Sensor[r.FailureMode], r.Sensor)
		m.Sensor2FM[r.Sensor] = append(m.Sensor2FM[r.Sensor], r.FailureMode)
	}
}

// ErrNoModel is returned by model-backed tools called outside a run.
var ErrNoModel = errors.New("this tool asks a language model and none is configured (run it in an agent run, or give assetops tool --model)")

// relevancyPrompt asks one question per pair, answered on three lines, as
// the original's FMSR agent does.
const relevancyPrompt = `For the asset %q, if the failure %q occurs, can the sensor %q help monitor or detect it?
Answer on three lines: line 1 is Yes or No; line 2 is the reason in one sentence; line 3, only if Yes, is how the sensor's readings change over time (for example rising, falling or spiking).`

func (t *fmsrTools) generateMapping(ctx context.Context, in mappingIn) (mappingOut, error) {
	class, modes, sensors, _, err := t.pairs(ctx, in)
	if err != nil {
		return mappingOut{}, err
	}
	if n := len(modes) * len(sensors); n > MaxGeneratedPairs {
		return mappingOut{}, fmt.Errorf("%d failure modes × %d sensors = %d pairs, more than the %d this tool asks about; name fewer",
			len(modes), len(sensors), n, MaxGeneratedPairs)
	}
	env := tools.EnvFrom(ctx)
	if env.Model == nil {
		return mappingOut{}, ErrNoModel
	}
	out := newMapping(in.AssetName, class, modes, sensors, "language model "+env.ModelName)
	for _, fm := range modes {
		for _, s := range sensors {
			resp, err := env.Model.Chat(ctx, &llm.ChatRequest{
				Model:    env.ModelName,
				Messages: []llm.Message{{Role: "user", Content: fmt.Sprintf(relevancyPrompt, in.AssetName, fm, s)}},
				Options:  env.Options,
			})
			if err != nil {
				return mappingOut{}, fmt.Errorf("ask the model about %s and %s: %w", fm, s, err)
			}
			answer, reason, behavior := ParseRelevancy(resp.Message.Content)
			out.add(Relevancy{AssetName: in.AssetName, FailureMode: fm, Sensor: s, RelevancyAnswer: answer, RelevancyReason: reason, TemporalBehavior: behavior})
		}
	}
	return out, nil
}

var lineLabel = regexp.MustCompile(`^(?i)(line\s*\d+\s*[:.)-]|\d+[.)])\s*`)

// ParseRelevancy reads a three-line answer: Yes, No or Unknown from the
// first line, the reason from the second, the temporal behaviour from the
// third when the answer is Yes. Blank lines and "Line 1:" labels are
// skipped; what cannot be read is "Unknown".
func ParseRelevancy(text string) (answer, reason, behavior string) {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(lineLabel.ReplaceAllString(strings.TrimSpace(l), "")); l != "" {
			lines = append(lines, l)
		}
	}
	answer, reason, behavior = "Unknown", "Unknown", "Unknown"
	if len(lines) > 0 {
		first := strings.ToLower(strings.TrimLeftFunc(lines[0], func(r rune) bool { return !unicode.IsLetter(r) }))
		switch {
		case strings.HasPrefix(first, "yes"):
			answer = "Yes"
		case strings.HasPrefix(first, "no"):
			answer = "No"
		}
	}
	if len(lines) > 1 {
		reason = lines[1]
	}
	if answer == "Yes" && len(lines) > 2 {
		behavior = lines[2]
	}
	return answer, reason, behavior
}

type readIn struct {
	FilePath string `json:"file_path" jsonschema:"the file_path a tool returned"`
}

type readOut struct {
	FilePath     string   `json:"file_path"`
	TotalSensors int      `json:"total_sensors"`
	Sensors      []string `json:"sensors"`
}

func (t *fmsrTools) readSensors(ctx context.Context, in readIn) (readOut, error) {
	path, err := tools.EnvFrom(ctx).Resolve(in.FilePath)
	if err != nil {
		return readOut{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return readOut{}, fmt.Errorf("read %s: %w", in.FilePath, err)
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		var obj struct {
			Sensors []string `json:"sensors"`
		}
		if err := json.Unmarshal(b, &obj); err != nil || obj.Sensors == nil {
			return readOut{}, fmt.Errorf("%s holds no sensor list (want a JSON array of names or an object with \"sensors\")", in.FilePath)
		}
		list = obj.Sensors
	}
	return readOut{FilePath: in.FilePath, TotalSensors: len(list), Sensors: list}, nil
}

// classWords map words in asset names to FMEA classes.
var classWords = []struct{ word, class string }{
	{"chiller", "chiller"},
	{"ahu", "ahu"},
	{"air handling", "ahu"},
	{"cooling tower", "cooling tower"},
}

// AssetClass normalises an asset name to its FMEA class: "Chiller 6" →
// "chiller", "CQPA AHU 2B" → "ahu"; otherwise digits are dropped, spaces
// folded and letters lowered.
func AssetClass(name string) string {
	n := strings.Join(strings.Fields(strings.ToLower(name)), " ")
	for _, cw := range classWords {
		if strings.Contains(n, cw.word) {
			return cw.class
		}
	}
	n = strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return -1
		}
		return r
	}, n)
	return strings.Join(strings.Fields(n), " ")
}
