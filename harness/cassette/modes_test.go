package cassette

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/llm"
)

func toolsReq(content string) *llm.ChatRequest {
	r := chatReq(content)
	r.Tools = []llm.Tool{{Type: "function", Function: llm.ToolFunction{Name: "iot.sites", Description: strings.Repeat("sites ", 200), Parameters: json.RawMessage(`{"type":"object"}`)}}}
	return r
}

// Auto replays what is recorded and records the rest; passthrough stores
// nothing; the stats count each.
func TestAutoAndPassthrough(t *testing.T) {
	ctx := context.Background()
	store := openMem(t)
	live := &fakeModel{}
	rec, _ := NewRecorder(store, live, Record)
	first, err := rec.Session("s", 0).Chat(ctx, chatReq("a"))
	if err != nil {
		t.Fatal(err)
	}

	auto, _ := NewRecorder(store, live, Auto)
	sess := auto.Session("s", 0)
	again, err := sess.Chat(ctx, chatReq("a")) // call 1: recorded
	if err != nil || again.Message.Content != first.Message.Content {
		t.Fatalf("auto replayed %+v, %v; want the recorded answer", again, err)
	}
	if _, err := sess.Chat(ctx, chatReq("b")); err != nil { // call 2: new
		t.Fatal(err)
	}
	st := auto.Stats()
	if st.Hits != 1 || st.Recorded != 1 || st.Live != 1 || len(st.Used) != 2 || st.Mode != Auto {
		t.Errorf("auto stats %+v", st)
	}
	if live.calls.Load() != 2 {
		t.Errorf("%d live calls, want 2", live.calls.Load())
	}

	entries, _ := store.All()
	pass, _ := NewRecorder(store, live, Passthrough)
	if _, err := pass.Session("s", 0).Chat(ctx, chatReq("c")); err != nil {
		t.Fatal(err)
	}
	after, _ := store.All()
	if len(after) != len(entries) || pass.Stats().Live != 1 {
		t.Errorf("passthrough stored %d entries (had %d), stats %+v", len(after), len(entries), pass.Stats())
	}

	// The stats persist with the store, for `cassette stats` and `prune`.
	if err := auto.SaveStats(); err != nil {
		t.Fatal(err)
	}
	saved, ok, err := store.LastRun()
	if err != nil || !ok || saved.Hits != 1 || len(saved.Used) != 2 {
		t.Errorf("saved stats %+v %v %v", saved, ok, err)
	}
}

// A new model digest is a different model: its calls miss instead of
// replaying what the old one said.
func TestNewDigestMisses(t *testing.T) {
	ctx := context.Background()
	store := openMem(t)
	rec, _ := NewRecorder(store, &fakeModel{}, Record)
	if _, err := rec.Session("s", 0).Chat(ctx, chatReq("a")); err != nil {
		t.Fatal(err)
	}
	info, _, _ := store.Model("m")
	info.Digest = "a-newer-build"
	if err := store.PutModel(info); err != nil {
		t.Fatal(err)
	}
	rep, _ := NewRecorder(store, nil, Replay)
	if _, err := rep.Session("s", 0).Chat(ctx, chatReq("a")); err == nil || !strings.Contains(err.Error(), "cassette miss") {
		t.Fatalf("err = %v, want a miss", err)
	}
	rep, _ = NewRecorder(openMem(t), nil, Replay)
	if _, err := rep.Session("s", 0).Chat(ctx, chatReq("a")); err == nil || !strings.Contains(err.Error(), "model m was never recorded") {
		t.Fatalf("err = %v, want a miss naming the model", err)
	}
}

// The tools array is stored once however many requests carry it, in Badger
// and in the export; gzip exports round-trip byte for byte.
func TestToolsStoredOnceAndGzip(t *testing.T) {
	ctx := context.Background()
	store := openMem(t)
	rec, _ := NewRecorder(store, &fakeModel{}, Record)
	sess := rec.Session("s", 0)
	for _, q := range []string{"a", "b", "c", "d"} {
		if _, err := sess.Chat(ctx, toolsReq(q)); err != nil {
			t.Fatal(err)
		}
	}
	z, err := store.Sizes()
	if err != nil {
		t.Fatal(err)
	}
	if z.Entries != 4 || z.Blobs != 5 || z.Stored*2 > z.Raw { // 4 requests + 1 tools array
		t.Errorf("sizes %+v: want 4 entries, 5 blobs and stored under half of raw", z)
	}
	var plain bytes.Buffer
	if err := store.Export(&plain); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(plain.String(), `"name":"iot.sites"`); n != 1 {
		t.Errorf("the tools array is written %d times in the export, want once", n)
	}

	dir := t.TempDir()
	gz := filepath.Join(dir, "c.jsonl.gz")
	if err := store.ExportFile(gz); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(gz)
	fresh := openMem(t)
	if _, err := fresh.ImportFile(gz); err != nil {
		t.Fatal(err)
	}
	if err := fresh.ExportFile(gz); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(gz)
	if !bytes.Equal(first, second) || len(first) >= plain.Len() {
		t.Errorf("gzip export: %d then %d bytes (plain %d); want identical and smaller", len(first), len(second), plain.Len())
	}
	full, ok, err := fresh.Get(mustKey(t, fresh))
	if err != nil || !ok || !strings.Contains(string(full.Request), "sites sites") {
		t.Errorf("Get does not rebuild the request's tools: %s", full.Request)
	}

	// Deleting entries drops the blobs only they used.
	keys := []string{}
	all, _ := fresh.All()
	for _, e := range all {
		keys = append(keys, e.Key)
	}
	if err := fresh.Delete(keys); err != nil {
		t.Fatal(err)
	}
	if z, _ := fresh.Sizes(); z.Entries != 0 || z.Blobs != 0 {
		t.Errorf("after deleting everything: %+v", z)
	}
}

func mustKey(t *testing.T, s *Store) string {
	all, err := s.All()
	if err != nil || len(all) == 0 {
		t.Fatalf("no entries: %v", err)
	}
	return all[0].Key
}

// Secrets never reach the store, and the key is the redacted request's, so
// replays of the same request match.
func TestRedaction(t *testing.T) {
	ctx := context.Background()
	store := openMem(t)
	live := &fakeModel{}
	rec, _ := NewRecorder(store, live, Record)
	email := func(_ string, v json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(strings.ReplaceAll(string(v), "ops@plant.example", "<email>")), nil
	}
	rec.Redact = append(rec.Redact, email)
	req := chatReq(`{"Authorization":"Bearer s3cret"} mail ops@plant.example`)
	if _, err := rec.Session("s", 0).Chat(ctx, req); err != nil {
		t.Fatal(err)
	}
	var export bytes.Buffer
	_ = store.Export(&export)
	if strings.Contains(export.String(), "ops@plant.example") {
		t.Error("the custom redactor did not run before writing")
	}
	rep, _ := NewRecorder(store, nil, Replay)
	rep.Redact = append(rep.Redact, email)
	if _, err := rep.Session("s", 0).Chat(ctx, req); err != nil {
		t.Errorf("the same request does not replay after redaction: %v", err)
	}

	out, err := RedactSecrets("chat", json.RawMessage(`{"headers":{"Authorization":"Bearer x","Cookie":"a=b","Accept":"json"},"api_key":"k"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"api_key":"REDACTED","headers":{"Accept":"json","Authorization":"REDACTED","Cookie":"REDACTED"}}`; string(out) != want {
		t.Errorf("RedactSecrets = %s, want %s", out, want)
	}
}

// CanonicalBytes is idempotent and keeps the value: the property behind
// every key.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.0,"x\u00e9\n"]}`, `[1e400]`, `"\ud800"`, `{"a":{"a":{}}}`, `-0.0`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := CanonicalBytes(in)
		if valid := json.Valid(in); valid != (err == nil) && !strings.Contains(fmt.Sprint(err), "out of range") {
			t.Fatalf("%q: json.Valid %v but CanonicalBytes error %v", in, valid, err)
		}
		if err != nil {
			return
		}
		var a, b any
		if json.Unmarshal(in, &a) == nil && json.Unmarshal(c, &b) == nil && fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("value changed: %q → %q", in, c)
		}
		if !json.Valid(c) {
			t.Fatalf("canonical form %q of %q is not JSON", c, in)
		}
		c2, err := CanonicalBytes(c)
		if err != nil || !bytes.Equal(c, c2) {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, c, c2, err)
		}
	})
}

// Import never panics and never half-writes, whatever the bytes.
func FuzzImport(f *testing.F) {
	s, _ := Open("")
	rec, _ := NewRecorder(s, &fakeModel{}, Record)
	_, _ = rec.Session("s", 0).Chat(context.Background(), toolsReq("a"))
	var good bytes.Buffer
	_ = s.Export(&good)
	s.Close()
	f.Add(good.Bytes())
	f.Add([]byte(`{"format":"assetops-cassette","version":2}` + "\n" + `{"type":"blob"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		store, err := Open("")
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		n, err := store.Import("fuzz", bytes.NewReader(in))
		all, _ := store.All()
		if err != nil && len(all) != 0 {
			t.Fatalf("a rejected import left %d entries", len(all))
		}
		if err == nil && n != len(all) {
			t.Fatalf("import said %d entries, store has %d", n, len(all))
		}
	})
}

// randomIDs answers with a tool call whose id changes every time, as
// Ollama's do.
type randomIDs struct{ fakeModel }

func (r *randomIDs) Chat(_ context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	n := r.calls.Add(1)
	return &llm.ChatResponse{Model: req.Model, Done: true, Message: llm.Message{Role: "assistant",
		ToolCalls: []llm.ToolCall{{ID: fmt.Sprintf("call_%d", n), Function: llm.ToolCallFunction{Name: "iot.sites", Arguments: json.RawMessage(`{}`)}}}}}, nil
}

// Two live runs whose server makes up different tool-call ids record the
// same keys: the ids are replaced by ones derived from the call.
func TestStableToolCallIDs(t *testing.T) {
	keys := func() []string {
		store := openMem(t)
		rec, _ := NewRecorder(store, &randomIDs{}, Record)
		sess := rec.Session("s", 0)
		req := chatReq("q")
		for range 2 {
			resp, err := sess.Chat(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			req.Messages = append(req.Messages, resp.Message, llm.Message{Role: "tool", Content: "{}", ToolCallID: resp.Message.ToolCalls[0].ID})
		}
		return rec.Stats().Used
	}
	first, second := keys(), keys()
	if len(first) != 2 || fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("keys differ between runs: %v vs %v", first, second)
	}
}
