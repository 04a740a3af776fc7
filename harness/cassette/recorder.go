package cassette

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/assetops/assetops/agents/llm"
	"github.com/google/go-cmp/cmp"
)

// Mode says what the recorder does with a call.
type Mode string

const (
	// Replay answers from the store only; a call not recorded is an error.
	Replay Mode = "replay"
	// Record sends every call to the model and stores the answer,
	// replacing an earlier recording of the same call.
	Record Mode = "record"
)

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Replay, Record:
		return m, nil
	}
	return "", fmt.Errorf("unknown cassette mode %q (modes: replay, record)", s)
}

// Recorder puts a store between the harness and a model.
type Recorder struct {
	store *Store
	model llm.Model // nil in replay
	mode  Mode
}

// NewRecorder returns a recorder. model may be nil in Replay mode.
func NewRecorder(store *Store, model llm.Model, mode Mode) (*Recorder, error) {
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, err
	}
	if mode != Replay && model == nil {
		return nil, fmt.Errorf("cassette mode %s needs a model", mode)
	}
	return &Recorder{store: store, model: model, mode: mode}, nil
}

// Session returns the Model that one trajectory talks to. Its calls are
// numbered from 1 in the order they are made; scenario and epoch name them
// in errors and in the export. Use scenario "" for calls outside a scenario.
func (r *Recorder) Session(scenario string, epoch int) *Session {
	return &Session{r: r, scenario: scenario, epoch: epoch}
}

// Session is a Model whose calls are recorded or replayed.
type Session struct {
	r        *Recorder
	scenario string
	epoch    int
	lane     string

	mu    sync.Mutex
	calls int
}

var _ llm.Model = (*Session)(nil)

// Fork returns a session for a conversation that runs beside this one, such
// as a plan step executed in parallel with another. Its calls are numbered on
// their own, under the lane name, so a replay matches the recording whatever
// order the parallel conversations interleave in. Lanes nest: "step-2/..." .
func (s *Session) Fork(lane string) llm.Model {
	if s.lane != "" {
		lane = s.lane + "/" + lane
	}
	return &Session{r: s.r, scenario: s.scenario, epoch: s.epoch, lane: lane}
}

// Chat records or replays a chat call.
func (s *Session) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	if s.r.mode == Record {
		if err := checkRecordable(req.Options); err != nil {
			return nil, err
		}
	}
	var resp llm.ChatResponse
	err := s.do(ctx, "chat", req.Model, req, &resp, func() (any, error) { return s.r.model.Chat(ctx, req) })
	if err != nil {
		return nil, err
	}
	return &resp, nil
}

// Embed records or replays an embedding call.
func (s *Session) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	var resp llm.EmbedResponse
	err := s.do(ctx, "embed", req.Model, req, &resp, func() (any, error) { return s.r.model.Embed(ctx, req) })
	if err != nil {
		return nil, err
	}
	return &resp, nil
}

// Show records or replays a model description.
func (s *Session) Show(ctx context.Context, model string) (*llm.ModelInfo, error) {
	var resp llm.ModelInfo
	req := struct {
		Model string `json:"model"`
	}{model}
	err := s.do(ctx, "show", model, req, &resp, func() (any, error) { return s.r.model.Show(ctx, model) })
	if err != nil {
		return nil, err
	}
	return &resp, nil
}

// checkRecordable refuses to record calls whose output the options leave to
// chance or to the server's defaults.
func checkRecordable(o llm.Options) error {
	var unset []string
	if o.Seed == nil {
		unset = append(unset, "seed")
	}
	if o.Temperature == nil {
		unset = append(unset, "temperature")
	}
	if o.NumCtx == nil {
		unset = append(unset, "num_ctx")
	}
	if len(unset) > 0 {
		return fmt.Errorf("refusing to record: options %s unset, so the recording could not be reproduced", strings.Join(unset, ", "))
	}
	return nil
}

func (s *Session) next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.calls
}

// do records or replays one call. In both modes the answer is decoded from
// the stored bytes, so a recording run and its replay see the same values.
func (s *Session) do(ctx context.Context, kind, model string, req, resp any, live func() (any, error)) error {
	creq, err := Canonical(req)
	if err != nil {
		return fmt.Errorf("cassette: encode %s request: %w", kind, err)
	}
	call := s.next()
	key := Key(kind, s.epoch, s.lane, call, creq)
	var stored json.RawMessage
	switch s.r.mode {
	case Replay:
		e, ok, err := s.r.store.Get(key)
		if err != nil {
			return err
		}
		if !ok {
			return s.miss(kind, model, call, creq)
		}
		stored = e.Response
	case Record:
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := live()
		if err != nil {
			return err
		}
		if stored, err = Canonical(out); err != nil {
			return fmt.Errorf("cassette: encode %s response: %w", kind, err)
		}
		e := Entry{Key: key, Kind: kind, Model: model, Scenario: s.scenario, Epoch: s.epoch, Lane: s.lane, Call: call, Request: creq, Response: stored}
		if err := s.r.store.Put(e); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(stored, resp); err != nil {
		return fmt.Errorf("cassette: decode %s response %s: %w", kind, key, err)
	}
	return nil
}

// MissError is a replayed call that was never recorded.
type MissError struct {
	Kind     string
	Model    string
	Scenario string
	Epoch    int
	Lane     string
	Call     int
	// Diff is a go-cmp diff (-recorded +requested) against the closest
	// recorded request, or empty when nothing comparable was recorded.
	Diff string
}

func (e *MissError) Error() string {
	scenario := e.Scenario
	if scenario == "" {
		scenario = "(none)"
	}
	hint := "nothing comparable is recorded"
	if e.Diff != "" {
		hint = "the closest recorded request differs"
	}
	call := fmt.Sprint(e.Call)
	if e.Lane != "" {
		call = e.Lane + " call " + call
	}
	return fmt.Sprintf("cassette miss: no recorded %s call %s for scenario %s, model %s, epoch %d (%s; re-record with --mode record)",
		e.Kind, call, scenario, e.Model, e.Epoch, hint)
}

// ErrMiss matches every MissError with errors.Is.
var ErrMiss = errors.New("cassette miss")

// Is makes errors.Is(err, ErrMiss) true for a MissError.
func (e *MissError) Is(target error) bool { return target == ErrMiss }

func (s *Session) miss(kind, model string, call int, creq json.RawMessage) error {
	me := &MissError{Kind: kind, Model: model, Scenario: s.scenario, Epoch: s.epoch, Lane: s.lane, Call: call}
	entries, err := s.r.store.All()
	if err != nil {
		return err
	}
	// Rank candidates: same scenario and call, then same scenario, then same
	// model, then anything of the kind; the shortest diff wins a tie.
	rank := func(e Entry) int {
		switch {
		case e.Scenario == s.scenario && e.Lane == s.lane && e.Call == call:
			return 0
		case e.Scenario == s.scenario:
			return 1
		case e.Model == model:
			return 2
		}
		return 3
	}
	var cands []Entry
	for _, e := range entries {
		if e.Kind == kind {
			cands = append(cands, e)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return rank(cands[i]) < rank(cands[j]) })
	var want any
	if err := json.Unmarshal(creq, &want); err != nil {
		return err
	}
	best := ""
	for i, c := range cands {
		if i > 0 && rank(c) > rank(cands[0]) || i >= 16 {
			break
		}
		var got any
		if err := json.Unmarshal(c.Request, &got); err != nil {
			continue
		}
		if d := cmp.Diff(got, want); best == "" || len(d) < len(best) {
			best = d
		}
	}
	me.Diff = best
	return me
}
