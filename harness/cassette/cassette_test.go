package cassette

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/assetops/assetops/agents/llm"
	"github.com/google/go-cmp/cmp"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"sorted keys", `{"b":1,"a":{"d":2,"c":3}}`, `{"a":{"c":3,"d":2},"b":1}`},
		{"space", "{ \"a\" : [ 1 , 2 ] }", `{"a":[1,2]}`},
		{"float forms", `[1.0, 1e0, 0.50, 2.5e-1]`, `[1,1,0.5,0.25]`},
		{"big integers kept", `[9007199254740993]`, `[9007199254740993]`},
		{"no html escaping", `{"a":"<tool_call>&"}`, `{"a":"<tool_call>&"}`},
		{"escapes", `"\u00e9\/\n\u0001\"\\\ud83d\ude00"`, "\"é/\\n\\u0001\\\"\\\\😀\""},
		{"html escapes decoded", `"\u003ctool_call\u003e"`, `"<tool_call>"`},
		{"duplicate keys: last wins", `{"a":1,"a":2}`, `{"a":2}`},
		{"exponents", `[1e21, 1e-7, 123456789e-3, -0.0]`, `[1e+21,1e-7,123456.789,-0]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical(json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestKeyNamesTheCall(t *testing.T) {
	req, _ := Canonical(json.RawMessage(`{"model":"m","messages":[]}`))
	same, _ := Canonical(json.RawMessage(`{"messages":[],"model":"m"}`))
	id := Identity{Digest: "d1", ServerVersion: "0.17.4"}
	base := Key("chat", id, 0, "", 1, req)
	if Key("chat", id, 0, "", 1, same) != base {
		t.Error("key depends on JSON key order")
	}
	for name, other := range map[string]string{
		"call":           Key("chat", id, 0, "", 2, req),
		"epoch":          Key("chat", id, 1, "", 1, req),
		"kind":           Key("embed", id, 0, "", 1, req),
		"lane":           Key("chat", id, 0, "step-1", 1, req),
		"digest":         Key("chat", Identity{"d2", "0.17.4"}, 0, "", 1, req),
		"server version": Key("chat", Identity{"d1", "0.17.5"}, 0, "", 1, req),
	} {
		if other == base {
			t.Errorf("key ignores the %s", name)
		}
	}
	if !strings.HasPrefix(base, "v2-") {
		t.Errorf("key %s does not carry its version", base)
	}
	// The key is the SHA-256 of the canonical JSON of what names the call.
	in, _ := Canonical(map[string]any{"v": KeyVersion, "kind": "chat", "digest": "d1", "server_version": "0.17.4",
		"epoch": 0, "lane": "step-1", "call": 1, "request": json.RawMessage(req)})
	if want := "v2-" + strings.TrimPrefix(Hash(in), "sha256-"); Key("chat", id, 0, "step-1", 1, req) != want {
		t.Errorf("key is not the hash of its canonical input %s", in)
	}
}

// fakeModel answers chat with a counter, so every live call differs.
type fakeModel struct{ calls atomic.Int64 }

func (f *fakeModel) Chat(_ context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	n := f.calls.Add(1)
	return &llm.ChatResponse{Model: req.Model, Done: true, DoneReason: "stop",
		Message: llm.Message{Role: "assistant", Content: strings.Repeat("x", int(n))},
		Metrics: llm.Metrics{EvalCount: int(n), PromptEvalCount: 7}}, nil
}

func (f *fakeModel) Embed(_ context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	return &llm.EmbedResponse{Model: req.Model, Embeddings: [][]float32{{0.1, 0.2, float32(1) / 3}}}, nil
}

func (f *fakeModel) Show(_ context.Context, model string) (*llm.ModelInfo, error) {
	return &llm.ModelInfo{Name: model, Digest: "abc", Capabilities: []string{"completion", "tools"}}, nil
}

func chatReq(content string) *llm.ChatRequest {
	return &llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: "user", Content: content}}, Options: llm.DefaultOptions()}
}

func openMem(t *testing.T) *Store {
	t.Helper()
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// record runs the same calls in record mode and returns the answers.
func calls(t *testing.T, m llm.Model) []any {
	t.Helper()
	ctx := context.Background()
	var out []any
	info, err := m.Show(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, info)
	for _, q := range []string{"a", "b", "a"} { // "a" twice: ordinal keeps them apart
		r, err := m.Chat(ctx, chatReq(q))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	e, err := m.Embed(ctx, &llm.EmbedRequest{Model: "m", Input: []string{"hi"}})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, e)
}

func TestRecordThenReplayGivesTheSameAnswers(t *testing.T) {
	store := openMem(t)
	live := &fakeModel{}
	rec, err := NewRecorder(store, live, Record)
	if err != nil {
		t.Fatal(err)
	}
	recorded := calls(t, rec.Session("s1", 0))

	// Through an export and a fresh store, as a committed cassette travels.
	var export bytes.Buffer
	if err := store.Export(&export); err != nil {
		t.Fatal(err)
	}
	fresh := openMem(t)
	if n, err := fresh.Import("export", bytes.NewReader(export.Bytes())); err != nil || n != 4 {
		t.Fatalf("Import = %d, %v; want 4 entries", n, err)
	}
	rep, err := NewRecorder(fresh, nil, Replay)
	if err != nil {
		t.Fatal(err)
	}
	replayed := calls(t, rep.Session("s1", 0))
	if diff := cmp.Diff(recorded, replayed); diff != "" {
		t.Errorf("replay differs from recording (-recorded +replayed):\n%s", diff)
	}
	if got := live.calls.Load(); got != 3 {
		t.Errorf("live model answered %d chats, want 3 (replay must not call it)", got)
	}
	// Identical requests at different ordinals replay in order.
	first, third := recorded[1].(*llm.ChatResponse), recorded[3].(*llm.ChatResponse)
	if first.Message.Content == third.Message.Content {
		t.Error("the two identical requests replayed the same answer")
	}

	var again bytes.Buffer
	if err := fresh.Export(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != export.String() {
		t.Error("export → import → export is not byte-identical")
	}
}

func TestReplayMissNamesTheCallAndDiffs(t *testing.T) {
	store := openMem(t)
	rec, _ := NewRecorder(store, &fakeModel{}, Record)
	if _, err := rec.Session("iot-01", 0).Chat(context.Background(), chatReq("what sites?")); err != nil {
		t.Fatal(err)
	}
	rep, _ := NewRecorder(store, nil, Replay)
	_, err := rep.Session("iot-01", 0).Chat(context.Background(), chatReq("what assets?"))
	var miss *MissError
	if !errors.As(err, &miss) || !errors.Is(err, ErrMiss) {
		t.Fatalf("err = %v, want a MissError", err)
	}
	for _, want := range []string{"chat call 1", "scenario iot-01", "model m", "epoch 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	if !strings.Contains(miss.Diff, `-`) || !strings.Contains(miss.Diff, "what sites?") || !strings.Contains(miss.Diff, "what assets?") {
		t.Errorf("diff does not show the recorded and requested content:\n%s", miss.Diff)
	}
}

func TestRecordRefusesUnreproducibleOptions(t *testing.T) {
	rec, _ := NewRecorder(openMem(t), &fakeModel{}, Record)
	req := chatReq("hi")
	req.Options.Seed, req.Options.NumCtx = nil, nil
	_, err := rec.Session("s", 0).Chat(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "seed, num_ctx") {
		t.Fatalf("err = %v, want a refusal naming seed and num_ctx", err)
	}
}

func TestImportRejectsBadFilesAndKeepsTheStore(t *testing.T) {
	good := func() string {
		s := openMem(t)
		rec, _ := NewRecorder(s, &fakeModel{}, Record)
		calls(t, rec.Session("s", 0))
		var b bytes.Buffer
		if err := s.Export(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}()
	lines := strings.Split(strings.TrimSpace(good), "\n")
	tampered := strings.Replace(lines[2], `"content":"`, `"content":"edited `, 1)
	tests := []struct {
		name, file, wantErr string
	}{
		{"empty", "", "empty file"},
		{"no header", strings.Join(lines[1:], "\n"), "x:1: not a cassette export"},
		{"future version", `{"format":"assetops-cassette","version":9}`, "version 9"},
		{"truncated line", lines[0] + "\n" + lines[1] + "\n" + lines[2][:len(lines[2])/2], "x:3: bad line"},
		{"truncated file", lines[0] + "\n" + lines[2], "no model line"},
		{"unknown field", lines[0] + "\n" + `{"key":"k","bogus":1}`, "x:2: bad line"},
		{"edited request", lines[0] + "\n" + lines[1] + "\n" + tampered, "x:3: key"},
		{"no response", lines[0] + "\n" + `{"type":"entry","entry":{"key":"k","kind":"chat","request":{}}}`, "x:2: entry lacks"},
		{"edited blob", lines[0] + "\n" + `{"type":"blob","hash":"sha256-00","json":[]}`, "x:2: blob sha256-00 does not match"},
		{"missing blob", lines[0] + "\n" + lines[1] + "\n" + strings.Replace(lines[2], `"messages"`, `"tools":{"$blob":"sha256-ff"},"messages"`, 1), "x:3: blob sha256-ff is not in the file"},
		{"old version", `{"format":"assetops-cassette","version":1}`, "re-record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openMem(t)
			if _, err := s.Import("seed", strings.NewReader(good)); err != nil {
				t.Fatal(err)
			}
			_, err := s.Import("x", strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Import err = %v, want it to contain %q", err, tt.wantErr)
			}
			var b bytes.Buffer
			if err := s.Export(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != good {
				t.Error("a rejected import changed the store")
			}
		})
	}
}

func TestOpenLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir)
	if err == nil || !strings.Contains(err.Error(), "another process has it open") {
		t.Fatalf("second Open err = %v, want a clear lock error", err)
	}
}

func BenchmarkReplayChat(b *testing.B) {
	store, err := Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	rec, _ := NewRecorder(store, &fakeModel{}, Record)
	req := chatReq(strings.Repeat("a long prompt ", 400))
	if _, err := rec.Session("s", 0).Chat(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	rep, _ := NewRecorder(store, nil, Replay)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rep.Session("s", 0).Chat(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
