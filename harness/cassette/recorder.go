package cassette

import (
	"bytes"
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
	// The mode for CI: nothing is ever re-recorded silently.
	Replay Mode = "replay"
	// Record sends every call to the model and stores the answer,
	// replacing an earlier recording of the same call.
	Record Mode = "record"
	// Auto replays what is recorded and records what is not.
	Auto Mode = "auto"
	// Passthrough sends every call to the model and stores nothing.
	Passthrough Mode = "passthrough"
)

// Modes lists the modes.
var Modes = []Mode{Replay, Record, Auto, Passthrough}

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown cassette mode %q (modes: replay, record, auto, passthrough)", s)
}

// Redactor rewrites a canonical request or response before it is hashed or
// stored, to keep secrets out of cassettes. It must be deterministic, and
// return canonical JSON (Canonical or CanonicalBytes give it).
type Redactor func(kind string, v json.RawMessage) (json.RawMessage, error)

// Recorder puts a store between the harness and a model. It is safe for
// concurrent use.
type Recorder struct {
	store *Store
	model llm.Model // nil in replay
	mode  Mode
	// Redact runs on every request and response before anything is hashed
	// or written; RedactSecrets by default.
	Redact []Redactor

	mu         sync.Mutex
	identities map[string]*llm.ModelInfo
	stats      Stats
	used       map[string]bool
}

// NewRecorder returns a recorder. model may be nil in Replay mode.
func NewRecorder(store *Store, model llm.Model, mode Mode) (*Recorder, error) {
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, err
	}
	if mode != Replay && model == nil {
		return nil, fmt.Errorf("cassette mode %s needs a model", mode)
	}
	return &Recorder{store: store, model: model, mode: mode, Redact: []Redactor{RedactSecrets},
		identities: map[string]*llm.ModelInfo{}, used: map[string]bool{}}, nil
}

// Stats are the recorder's counts so far, with the keys it used, sorted.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats
	st.Mode = r.mode
	st.Used = make([]string, 0, len(r.used))
	for k := range r.used {
		st.Used = append(st.Used, k)
	}
	sort.Strings(st.Used)
	return st
}

// SaveStats keeps the run's stats in the store (see Store.LastRun).
func (r *Recorder) SaveStats() error { return r.store.SaveLastRun(r.Stats()) }

func (r *Recorder) count(key string, f func(*Stats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.stats)
	if key != "" {
		r.used[key] = true
	}
}

// identity returns what the server says of the model: live, once per
// recorder, in every mode but replay (and then stored); from the recording
// in replay.
func (r *Recorder) identity(ctx context.Context, model string) (*llm.ModelInfo, error) {
	r.mu.Lock()
	info, ok := r.identities[model]
	r.mu.Unlock()
	if ok {
		return info, nil
	}
	if r.mode == Replay {
		got, ok, err := r.store.Model(model)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &MissError{Kind: "show", Model: model}
		}
		info = &got
	} else {
		live, err := r.model.Show(ctx, model)
		if err != nil {
			return nil, err
		}
		if r.mode != Passthrough {
			if err := r.store.PutModel(*live); err != nil {
				return nil, err
			}
		}
		info = live
	}
	r.mu.Lock()
	r.identities[model] = info
	r.mu.Unlock()
	return info, nil
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
	if s.r.mode == Record || s.r.mode == Auto {
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

// Show returns what the server said of the model when it was recorded (in
// replay), or says now (otherwise).
func (s *Session) Show(ctx context.Context, model string) (*llm.ModelInfo, error) {
	info, err := s.r.identity(ctx, model)
	if err != nil {
		return nil, err
	}
	out := *info
	return &out, nil
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

func (r *Recorder) redact(kind string, v json.RawMessage) (json.RawMessage, error) {
	for _, f := range r.Redact {
		var err error
		if v, err = f(kind, v); err != nil {
			return nil, fmt.Errorf("cassette: redact %s: %w", kind, err)
		}
	}
	return v, nil
}

// do records or replays one call. In every mode but passthrough the answer
// is decoded from the stored bytes, so a recording run and its replay see
// the same values.
func (s *Session) do(ctx context.Context, kind, model string, req, resp any, live func() (any, error)) error {
	r := s.r
	creq, err := Canonical(req)
	if err != nil {
		return fmt.Errorf("cassette: encode %s request: %w", kind, err)
	}
	if creq, err = r.redact(kind, creq); err != nil {
		return err
	}
	call := s.next()
	info, err := r.identity(ctx, model)
	if err != nil {
		return err
	}
	id := Identity{info.Digest, info.ServerVersion}
	key := Key(kind, id, s.epoch, s.lane, call, creq)
	var stored json.RawMessage
	if r.mode == Replay || r.mode == Auto {
		e, ok, err := r.store.Lookup(key)
		if err != nil {
			return err
		}
		switch {
		case ok:
			stored = e.Response
			r.count(key, func(st *Stats) { st.Hits++ })
		case r.mode == Replay:
			r.count("", func(st *Stats) { st.Misses++ })
			return s.miss(kind, model, call, creq)
		}
	}
	if stored == nil {
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
		if stored, err = r.redact(kind, stored); err != nil {
			return err
		}
		if kind == "chat" {
			if stored, err = stableToolCallIDs(stored, key); err != nil {
				return err
			}
		}
		if r.mode == Passthrough {
			r.count("", func(st *Stats) { st.Live++ })
		} else {
			e := Entry{Key: key, Kind: kind, Model: model, Digest: id.Digest, ServerVersion: id.ServerVersion,
				Scenario: s.scenario, Epoch: s.epoch, Lane: s.lane, Call: call, Request: creq, Response: stored}
			if err := r.store.Put(e); err != nil {
				return err
			}
			r.count(key, func(st *Stats) { st.Live++; st.Recorded++ })
		}
	}
	if err := json.Unmarshal(stored, resp); err != nil {
		return fmt.Errorf("cassette: decode %s response %s: %w", kind, key, err)
	}
	return nil
}

// stableToolCallIDs replaces the tool-call ids a server made up (Ollama's
// are random) by ids derived from the call's key. The agent sends them back
// with the tool results, so random ids would make every later request, and
// its key, differ from one live run to the next.
func stableToolCallIDs(resp json.RawMessage, key string) (json.RawMessage, error) {
	if !bytes.Contains(resp, []byte(`"tool_calls"`)) {
		return resp, nil
	}
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		return nil, err
	}
	msg, _ := m["message"].(map[string]any)
	calls, _ := msg["tool_calls"].([]any)
	changed := false
	for i, c := range calls {
		if call, ok := c.(map[string]any); ok {
			if _, has := call["id"]; has {
				call["id"] = fmt.Sprintf("call_%s_%d", strings.TrimPrefix(key, fmt.Sprintf("v%d-", KeyVersion))[:12], i)
				changed = true
			}
		}
	}
	if !changed {
		return resp, nil
	}
	return Canonical(m)
}

// secretKeys are the object keys RedactSecrets blanks, compared without case.
var secretKeys = []string{"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api_key", "apikey", "api-key"}

// Redacted replaces a secret's value.
const Redacted = "REDACTED"

// RedactSecrets blanks the values of HTTP credentials wherever they appear as
// object keys (Authorization, cookies, API keys). Ollama requests carry
// none, but a model or server wrapper that echoes headers would put them in
// a committed file.
func RedactSecrets(_ string, v json.RawMessage) (json.RawMessage, error) {
	if !hasSecretKey(v) {
		return v, nil
	}
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		return nil, err
	}
	return Canonical(blank(x))
}

// hasSecretKey reports whether a quoted secret key name occurs in v, any
// case; it looks only after quotes, so that requests without secrets (all
// of them, normally) cost a scan of their quotes.
func hasSecretKey(v []byte) bool {
	for i := 0; i < len(v); {
		j := bytes.IndexByte(v[i:], '"')
		if j < 0 {
			return false
		}
		i += j + 1
		for _, k := range secretKeys {
			if end := i + len(k); end < len(v) && v[end] == '"' && strings.EqualFold(string(v[i:end]), k) {
				return true
			}
		}
	}
	return false
}

func blank(x any) any {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			secret := false
			for _, s := range secretKeys {
				if strings.EqualFold(k, s) {
					secret = true
				}
			}
			if secret {
				t[k] = Redacted
			} else {
				t[k] = blank(v)
			}
		}
	case []any:
		for i, v := range t {
			t[i] = blank(v)
		}
	}
	return x
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
	if e.Kind == "show" {
		return fmt.Sprintf("cassette miss: model %s was never recorded (record it with --mode record or auto)", e.Model)
	}
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
