// Package scenarios loads benchmark scenarios: this project's own, embedded
// from the JSONL files beside this file, and the original AssetOpsBench files
// (JSONL or JSON arrays, integer or "Q<n>" ids, "text" or "utterance").
package scenarios

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/assetops/assetops/fixtures"
)

// Scenario is one benchmark task.
type Scenario struct {
	ID                 string `json:"id"`
	Type               string `json:"type,omitempty"`
	Category           string `json:"category,omitempty"`
	Text               string `json:"text"`
	CharacteristicForm string `json:"characteristic_form,omitempty"`
	Deterministic      *bool  `json:"deterministic,omitempty"`
	Note               string `json:"note,omitempty"`
	Phase              string `json:"phase,omitempty"`
	PairedWith         string `json:"paired_with,omitempty"`
	Source             string `json:"source,omitempty"`
	// Now is the run clock the tools see, site-local ("2020-06-10T09:00:00"),
	// so that "last week" means the same week in every run. Empty: the
	// default clock of the tools.
	Now string `json:"now,omitempty"`
	// Clarifications answer the agent's clarifying questions (ask_user).
	Clarifications []Clarification `json:"clarifications,omitempty"`
	Expect         *Expectations   `json:"expect,omitempty"`
	Gold           *Gold           `json:"gold,omitempty"`
}

// Clarification is what the user answers to a clarifying question: the
// first clarification whose When terms has one in the question (compared
// without case), or that has no terms, answers it.
type Clarification struct {
	When   []string `json:"when,omitempty"`
	Answer string   `json:"answer"`
}

// NoInformation answers a clarifying question no clarification covers.
const NoInformation = "No further information is available."

// Clarify answers a clarifying question as the scenario's user.
func (s Scenario) Clarify(question string) string {
	q := strings.ToLower(question)
	for _, c := range s.Clarifications {
		if len(c.When) == 0 {
			return c.Answer
		}
		for _, w := range c.When {
			if strings.Contains(q, strings.ToLower(w)) {
				return c.Answer
			}
		}
	}
	return NoInformation
}

// Expectations are what a correct run does, checkable by machine.
type Expectations struct {
	// Calls are the tool calls a correct run makes, in this order (other
	// calls may come between them), with the key arguments each must carry.
	Calls []ExpectedCall `json:"calls"`
	// Facts must all be in the final answer.
	Facts []Fact `json:"facts"`
	// MustNot are claims the answer must not make (case-insensitive text).
	MustNot []string `json:"must_not,omitempty"`
}

// ExpectedCall is one expected tool call.
type ExpectedCall struct {
	Tool string `json:"tool"`
	// Args each must equal the call's argument of the same name: strings
	// ignoring case and surrounding space, times as instants, numbers as numbers.
	Args map[string]any `json:"args,omitempty"`
}

// Fact is something the final answer must state: a text (case-insensitive)
// or a number within an absolute tolerance.
type Fact struct {
	Name      string   `json:"name"`
	Text      string   `json:"text,omitempty"`
	Number    *float64 `json:"number,omitempty"`
	Tolerance float64  `json:"tolerance,omitempty"`
}

// Gold is a reference trajectory: the tool calls a good run makes and its
// final answer.
type Gold struct {
	Steps  []GoldStep `json:"steps"`
	Answer string     `json:"answer"`
}

// GoldStep is one tool call of the gold trajectory.
type GoldStep struct {
	Thought string          `json:"thought,omitempty"`
	Tool    string          `json:"tool"`
	Args    json.RawMessage `json:"args"`
}

// UnmarshalJSON reads both our format and the original's: an integer or a
// string id, "utterance" for "text". Unknown fields are an error, so that a
// misspelt expectation is not silently dropped.
func (s *Scenario) UnmarshalJSON(b []byte) error {
	type plain Scenario
	var w struct {
		plain
		ID        json.RawMessage `json:"id"`
		Utterance string          `json:"utterance"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*s = Scenario(w.plain)
	id, err := parseID(w.ID)
	if err != nil {
		return err
	}
	s.ID = id
	if s.Text == "" {
		s.Text = w.Utterance
	}
	if strings.TrimSpace(s.Text) == "" {
		return fmt.Errorf("scenario %s has no text", s.ID)
	}
	if _, err := s.Clock(); err != nil {
		return err
	}
	return nil
}

func parseID(raw json.RawMessage) (string, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return "", fmt.Errorf("id %s is not an integer", n)
		}
		return n.String(), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("missing or invalid id %s", string(raw))
	}
	return strings.TrimSpace(s), nil
}

// Parse reads scenarios from a JSON array or from JSONL (one scenario a
// line; blank lines are skipped). name is used in errors.
func Parse(name string, data []byte) ([]Scenario, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out := make([]Scenario, 0, len(raws))
		for i, raw := range raws {
			var s Scenario
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("%s: item %d: %w", name, i+1, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	var out []Scenario
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var s Scenario
		if err := json.Unmarshal(line, &s); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// Load reads a scenario file, or every .json and .jsonl file under a
// directory in path order.
func Load(path string) ([]Scenario, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load scenarios: %w", err)
	}
	if !info.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load scenarios: %w", err)
		}
		return Parse(path, data)
	}
	return loadFS(os.DirFS(path), path)
}

func loadFS(fsys fs.FS, prefix string) ([]Scenario, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".jsonl") || strings.HasSuffix(p, ".json")) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load scenarios %s: %w", prefix, err)
	}
	sort.Strings(paths)
	var out []Scenario
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("load scenarios: %w", err)
		}
		ss, err := Parse(filepath.Join(prefix, p), data)
		if err != nil {
			return nil, err
		}
		out = append(out, ss...)
	}
	return out, nil
}

//go:embed *.jsonl
var embedded embed.FS

// Embedded returns this project's own scenarios, sorted by id.
func Embedded() ([]Scenario, error) {
	ss, err := loadFS(embedded, "scenarios")
	if err != nil {
		return nil, err
	}
	return Unique(ss)
}

// Unique drops exact repeats (the original ships the same scenario in several
// files), sorts by id, and refuses two different scenarios with one id.
func Unique(ss []Scenario) ([]Scenario, error) {
	byID := map[string]Scenario{}
	for _, s := range ss {
		if prev, ok := byID[s.ID]; ok {
			if !reflect.DeepEqual(prev, s) {
				return nil, fmt.Errorf("two different scenarios have id %s", s.ID)
			}
			continue
		}
		byID[s.ID] = s
	}
	out := make([]Scenario, 0, len(byID))
	for _, s := range byID {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return lessID(out[i].ID, out[j].ID) })
	return out, nil
}

// lessID orders numeric ids numerically and before the others.
func lessID(a, b string) bool {
	na, errA := strconv.Atoi(a)
	nb, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return na < nb
	case errA == nil:
		return true
	case errB == nil:
		return false
	}
	return a < b
}

// ErrUnknown is returned by Select for an id no scenario has.
var ErrUnknown = errors.New("unknown scenario")

// Select returns the scenarios with the given ids, in the order given.
func Select(ss []Scenario, ids []string) ([]Scenario, error) {
	var out []Scenario
	for _, id := range ids {
		found := false
		for _, s := range ss {
			if s.ID == id {
				out = append(out, s)
				found = true
				break
			}
		}
		if !found {
			var have []string
			for _, s := range ss {
				have = append(have, s.ID)
			}
			if len(have) > 12 {
				have = append(have[:12], "…")
			}
			return nil, fmt.Errorf("%w %q (have %s)", ErrUnknown, id, strings.Join(have, ", "))
		}
	}
	return out, nil
}

// Clock is the scenario's run clock, zero when it sets none.
func (s Scenario) Clock() (time.Time, error) {
	if s.Now == "" {
		return time.Time{}, nil
	}
	t, err := fixtures.ParseLocalTime(s.Now)
	if err != nil {
		return time.Time{}, fmt.Errorf("scenario %s: now: %w", s.ID, err)
	}
	return t, nil
}
