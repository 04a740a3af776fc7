package tinyllm_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/fs/ggml"

	"github.com/assetops/assetops/agents"
	"github.com/assetops/assetops/agents/react"
	"github.com/assetops/assetops/harness/tinyllm"
)

var update = flag.Bool("update", false, "rewrite golden files")

// harnessScript is the script the harness uses: the iot.history call of
// scenario iot-01, then its gold answer.
func harnessScript(t testing.TB) tinyllm.Script {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "scenarios", "iot.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	answer := ""
	for sc.Scan() {
		var s struct {
			ID   string `json:"id"`
			Gold struct {
				Answer string `json:"answer"`
			} `json:"gold"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		if s.ID == "iot-01" {
			answer = s.Gold.Answer
			break
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if answer == "" {
		t.Fatal("scenario iot-01 has no gold answer in scenarios/iot.jsonl")
	}
	return tinyllm.Script{
		ToolCalls: []tinyllm.Call{{
			Name:      "iot.history",
			Arguments: json.RawMessage(`{"asset_id":"Chiller 9","end":"2020-06-03T15:00:00","sensors":["Chiller Efficiency"],"site_name":"MAIN","start":"2020-06-03T14:00:00"}`),
		}},
		Answer: answer,
	}
}

// otherScript exercises what the harness script does not: several calls, a
// reply, bytes outside ASCII.
var otherScript = tinyllm.Script{
	ToolCalls: []tinyllm.Call{
		{Name: "iot.sites", Arguments: json.RawMessage(`{}`)},
		{Name: "iot.history", Arguments: json.RawMessage(`{"site_name": "MAIN", "asset_id": "Chiller 6", "start": "2020-06-01", "end": "2020-06-02", "limit": 5}`)},
	},
	Answer: "Chiller 6 ran at 12.5 °C; τ ≈ 3 s — «done» ✓ 日本",
	Reply:  "  Hello! I am a tiny scripted model.\nSecond line, tab\there, quote \" and <b>tag</b>.\n",
}

func gguf(t testing.TB, s tinyllm.Script) []byte {
	t.Helper()
	b, err := tinyllm.Bytes(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteReproducible(t *testing.T) {
	s := harnessScript(t)
	a, b := gguf(t, s), gguf(t, s)
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same script differ")
	}
	sum := sha256.Sum256(a)
	got := hex.EncodeToString(sum[:])
	golden := filepath.Join("testdata", "harness.gguf.sha256")
	if *update {
		if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != strings.TrimSpace(string(want)) {
		t.Errorf("sha256 of the harness model = %s, golden %s (run go test -update if the change is intended)", got, strings.TrimSpace(string(want)))
	}
	t.Logf("harness model: %d bytes, sha256 %s", len(a), got)
}

func TestDecode(t *testing.T) {
	for _, s := range []tinyllm.Script{harnessScript(t), otherScript} {
		b := gguf(t, s)
		f, err := ggml.Decode(bytes.NewReader(b), -1)
		if err != nil {
			t.Fatal(err)
		}
		kv := f.KV()
		if got := kv.Architecture(); got != tinyllm.Architecture {
			t.Errorf("architecture %q", got)
		}
		if got := kv.ContextLength(); got != tinyllm.ContextLength {
			t.Errorf("context length %d", got)
		}
		tokens := kv.Strings("tokenizer.ggml.tokens")
		if n := kv.Uint("vocab_size"); int(n) != len(tokens) || n == 0 {
			t.Errorf("vocab_size %d, %d tokens", n, len(tokens))
		}
		if got := len(kv.Ints("tokenizer.ggml.token_type")); got != len(tokens) {
			t.Errorf("%d token types for %d tokens", got, len(tokens))
		}
		if got := kv.String("tokenizer.ggml.model"); got != "gpt2" {
			t.Errorf("tokenizer %q", got)
		}
		calls, err := tinyllm.ToolCallText(s.ToolCalls)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{calls, s.Answer, s.Reply} {
			if want != "" && !slices.Contains(tokens, gpt2Spelling(want)) {
				t.Errorf("no token %q (%q)", want, gpt2Spelling(want))
			}
		}
		for _, special := range []string{"<|im_start|>", "<|im_end|>", "<|tool_mode|>", "<|answer_mode|>", "<|reply_mode|>", "<tool_call>", "</tool_call>"} {
			if !slices.Contains(tokens, special) {
				t.Errorf("no special token %s", special)
			}
		}
		if len(f.Tensors().Items()) != 3+9 { // embeddings, output, its norm; one block
			t.Errorf("%d tensors", len(f.Tensors().Items()))
		}
		t.Logf("%d bytes, %d tokens, %d merges, %d tensors", len(b), len(tokens), len(kv.Strings("tokenizer.ggml.merges")), len(f.Tensors().Items()))
	}
}

// gpt2Spelling spells bytes with GPT-2's byte-to-unicode table, written out
// independently of the package's.
func gpt2Spelling(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= '!' && c <= '~', c >= 0xA1 && c <= 0xAC, c >= 0xAE:
			b.WriteRune(rune(c))
		default:
			n := 0
			for d := range int(c) {
				if !(d >= '!' && d <= '~' || d >= 0xA1 && d <= 0xAC || d >= 0xAE) {
					n++
				}
			}
			b.WriteRune(rune(256 + n))
		}
	}
	return b.String()
}

func TestWriteRejects(t *testing.T) {
	for name, s := range map[string]tinyllm.Script{
		"unnamed call":   {ToolCalls: []tinyllm.Call{{Arguments: json.RawMessage(`{}`)}}},
		"array args":     {ToolCalls: []tinyllm.Call{{Name: "x", Arguments: json.RawMessage(`[1]`)}}},
		"bad json":       {ToolCalls: []tinyllm.Call{{Name: "x", Arguments: json.RawMessage(`{`)}}},
		"stop in answer": {Answer: "a<|im_end|>b"},
		"control reply":  {Reply: "<|tool_mode|>"},
		"not utf-8":      {Answer: "a\xffb"},
	} {
		if err := tinyllm.Write(new(bytes.Buffer), s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParameters(t *testing.T) {
	p := tinyllm.Parameters()
	want := map[string]any{"temperature": 0, "seed": 42, "num_thread": 1, "num_ctx": tinyllm.NumCtx, "stop": []string{"<|im_end|>"}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parameters() = %v, want %v", p, want)
	}
	if !strings.Contains(tinyllm.Template, "<|tool_mode|>") || !strings.Contains(tinyllm.Template, "{{- else if .ToolCalls }}<tool_call>") {
		t.Error("the template lost its mode tokens or its tool-call tag")
	}
}

// --- live: the real Ollama server ---

func liveServer(t *testing.T) *api.Client {
	t.Helper()
	raw := os.Getenv("ASSETOPS_OLLAMA_URL")
	if raw == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("ASSETOPS_OLLAMA_URL is not set; under CI the live test must run: export ASSETOPS_OLLAMA_URL=$(scripts/ollama-server start)")
		}
		t.Skip("ASSETOPS_OLLAMA_URL is not set; start a server with: export ASSETOPS_OLLAMA_URL=$(scripts/ollama-server start)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return api.NewClient(u, http.DefaultClient)
}

// historyTool is iot.history as the harness offers it.
var historyTool = mustTool(`{"type":"function","function":{"name":"iot.history",
"description":"Telemetry of an asset in the half-open window [start, end), oldest first, optionally only some sensors. Times are site-local ISO 8601 (2020-06-01T06:00:00 or 2020-06-01).",
"parameters":{"type":"object","required":["site_name","asset_id","start","end"],"properties":{
"site_name":{"type":"string","description":"site name, e.g. MAIN"},
"asset_id":{"type":"string","description":"asset name, e.g. Chiller 6"},
"start":{"type":"string","description":"inclusive start, site-local ISO 8601"},
"end":{"type":"string","description":"exclusive end, site-local ISO 8601"},
"sensors":{"type":["null","array"],"items":{"type":"string"},"description":"only these sensors; all when empty"},
"limit":{"type":"integer","description":"records per page (default 100)"},
"cursor":{"type":"string","description":"next_cursor of the previous page"}}}}}`)

var sitesTool = mustTool(`{"type":"function","function":{"name":"iot.sites","description":"List the IoT sites.","parameters":{"type":"object","properties":{}}}}`)

func mustTool(s string) api.Tool {
	var t api.Tool
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		panic(err)
	}
	return t
}

// allTools are the harness's 33 tools with their JSON schemas.
func allTools(t *testing.T) api.Tools {
	t.Helper()
	b, err := json.Marshal(agents.Registry(nil).LLMTools())
	if err != nil {
		t.Fatal(err)
	}
	var ts api.Tools
	if err := json.Unmarshal(b, &ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

type exchange struct {
	resp    api.ChatResponse
	elapsed time.Duration
}

func chat(t *testing.T, c *api.Client, req api.ChatRequest) exchange {
	t.Helper()
	stream := false
	req.Stream = &stream
	var out exchange
	n := 0
	start := time.Now()
	err := c.Chat(context.Background(), &req, func(r api.ChatResponse) error {
		out.resp = r
		n++
		return nil
	})
	out.elapsed = time.Since(start)
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	if n != 1 {
		t.Fatalf("chat: %d responses to a non-streaming request", n)
	}
	return out
}

// normal is a response without what legitimately varies between calls:
// timestamps, durations and tool-call ids. Ollama's tool parser also puts
// the arguments in Go map order, so they are compared as JSON values.
func normal(t *testing.T, r api.ChatResponse) string {
	t.Helper()
	r.CreatedAt = time.Time{}
	r.TotalDuration, r.LoadDuration, r.PromptEvalDuration, r.EvalDuration = 0, 0, 0, 0
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if msg, ok := v["message"].(map[string]any); ok {
		if calls, ok := msg["tool_calls"].([]any); ok {
			for _, c := range calls {
				delete(c.(map[string]any), "id")
			}
		}
	}
	b, err = json.Marshal(v) // map keys sorted
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkCalls(t *testing.T, got []api.ToolCall, want []tinyllm.Call) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d tool calls, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i].Function
		if g.Name != w.Name || g.Index != i {
			t.Errorf("call %d: %s (index %d), want %s", i, g.Name, g.Index, w.Name)
		}
		var ga, wa any
		gb, _ := json.Marshal(g.Arguments)
		if err := json.Unmarshal(gb, &ga); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(w.Arguments, &wa); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ga, wa) {
			t.Errorf("call %d: arguments %s, want %s", i, gb, w.Arguments)
		}
	}
}

func callMessage(calls []tinyllm.Call) api.Message {
	m := api.Message{Role: "assistant"}
	for i, c := range calls {
		var args api.ToolCallFunctionArguments
		if err := json.Unmarshal(c.Arguments, &args); err != nil {
			panic(err)
		}
		m.ToolCalls = append(m.ToolCalls, api.ToolCall{ID: fmt.Sprintf("call_%d", i), Function: api.ToolCallFunction{Index: i, Name: c.Name, Arguments: args}})
	}
	return m
}

func createModel(t *testing.T, c *api.Client, s tinyllm.Script, tag string) string {
	t.Helper()
	b := gguf(t, s)
	name := fmt.Sprintf("tinyllm-%s-%d-%d", tag, os.Getpid(), time.Now().UnixNano())
	start := time.Now()
	if err := tinyllm.Create(context.Background(), os.Getenv("ASSETOPS_OLLAMA_URL"), name, b); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: create (upload %d bytes + /api/create) %v", name, len(b), time.Since(start).Round(time.Microsecond))
	t.Cleanup(func() {
		_ = c.Delete(context.Background(), &api.DeleteRequest{Model: name})
	})
	return name
}

func TestLiveOllama(t *testing.T) {
	c := liveServer(t)
	ctx := context.Background()
	s := harnessScript(t)
	name := createModel(t, c, s, "harness")

	show, err := c.Show(ctx, &api.ShowRequest{Model: name})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(show.Capabilities, "tools") {
		t.Errorf("capabilities %v lack tools", show.Capabilities)
	}
	t.Logf("show: capabilities %v, family %s, parameter size %s, quantization %s", show.Capabilities, show.Details.Family, show.Details.ParameterSize, show.Details.QuantizationLevel)

	question := api.Message{Role: "user", Content: "Retrieve the Chiller Efficiency readings of Chiller 9 at site MAIN from 2020-06-03T14:00:00 up to 2020-06-03T15:00:00. How many readings are there, and what is the highest one?"}
	system := api.Message{Role: "system", Content: "You are an agent for industrial asset operations."}
	toolReq := api.ChatRequest{Model: name, Messages: []api.Message{system, question}, Tools: api.Tools{sitesTool, historyTool}}
	result := api.Message{Role: "tool", ToolName: "iot.history", ToolCallID: "call_0",
		Content: `{"records":[{"timestamp":"2020-06-03T14:00:00","Chiller 9 Chiller Efficiency":0.61},{"timestamp":"2020-06-03T14:15:00","Chiller 9 Chiller Efficiency":0.625}]}`}
	answerReq := api.ChatRequest{Model: name, Messages: []api.Message{system, question, callMessage(s.ToolCalls), result}, Tools: toolReq.Tools}
	replyReq := api.ChatRequest{Model: name, Messages: []api.Message{{Role: "user", Content: "Hi there"}}}

	first := chat(t, c, toolReq)
	t.Logf("first chat (load + prompt %d tokens + %d out): %v, load %v", first.resp.PromptEvalCount, first.resp.EvalCount, first.elapsed.Round(time.Millisecond), first.resp.LoadDuration.Round(time.Millisecond))
	if first.resp.Message.Content != "" {
		t.Errorf("tool turn content %q", first.resp.Message.Content)
	}
	checkCalls(t, first.resp.Message.ToolCalls, s.ToolCalls)

	ans := chat(t, c, answerReq)
	if ans.resp.Message.Content != s.Answer || len(ans.resp.Message.ToolCalls) != 0 {
		t.Errorf("answer turn: %q %v, want %q", ans.resp.Message.Content, ans.resp.Message.ToolCalls, s.Answer)
	}
	if ans.resp.DoneReason != "stop" {
		t.Errorf("answer turn done_reason %q", ans.resp.DoneReason)
	}
	t.Logf("answer turn: %v, prompt %d tokens, %d out", ans.elapsed.Round(time.Millisecond), ans.resp.PromptEvalCount, ans.resp.EvalCount)

	rep := chat(t, c, replyReq)
	if rep.resp.Message.Content != s.Reply || rep.resp.DoneReason != "stop" {
		t.Errorf("no-tools turn: %q (%s), want %q", rep.resp.Message.Content, rep.resp.DoneReason, s.Reply)
	}

	// Repeated calls give the same responses, in any order.
	for _, req := range []api.ChatRequest{replyReq, answerReq, toolReq} {
		var want string
		for i := range 3 {
			got := normal(t, chat(t, c, req).resp)
			if i == 0 {
				want = got
			} else if got != want {
				t.Errorf("call %d differs:\n%s\nfirst:\n%s", i, got, want)
			}
		}
	}

	// The harness's prompt: the ReAct system prompt and 33 tools.
	tools := allTools(t)
	toolsJSON, _ := json.Marshal(tools)
	big := api.ChatRequest{Model: name, Messages: []api.Message{{Role: "system", Content: react.SystemPrompt}, question}, Tools: tools}
	cold := chat(t, c, big)
	checkCalls(t, cold.resp.Message.ToolCalls, s.ToolCalls)
	warm := chat(t, c, big)
	checkCalls(t, warm.resp.Message.ToolCalls, s.ToolCalls)
	t.Logf("big prompt (%d tools, %d bytes of tool JSON): first %v (prompt %d tokens in %v), again %v (prompt %d tokens in %v: the runner reuses its cache)",
		len(tools), len(toolsJSON), cold.elapsed.Round(time.Millisecond), cold.resp.PromptEvalCount, cold.resp.PromptEvalDuration.Round(time.Millisecond),
		warm.elapsed.Round(time.Millisecond), warm.resp.PromptEvalCount, warm.resp.PromptEvalDuration.Round(time.Millisecond))
	bigAnswer := big
	bigAnswer.Messages = append(slices.Clone(big.Messages), callMessage(s.ToolCalls), result)
	ba := chat(t, c, bigAnswer)
	if ba.resp.Message.Content != s.Answer {
		t.Errorf("big answer turn: %q", ba.resp.Message.Content)
	}
	t.Logf("big prompt, answer turn: %v (prompt %d tokens in %v)", ba.elapsed.Round(time.Millisecond), ba.resp.PromptEvalCount, ba.resp.PromptEvalDuration.Round(time.Millisecond))
	if cold.resp.PromptEvalCount >= tinyllm.NumCtx {
		t.Errorf("the big prompt takes %d tokens, more than num_ctx %d", cold.resp.PromptEvalCount, tinyllm.NumCtx)
	}
}

// TestLiveOllamaScript checks what the harness script does not use: several
// tool calls in one turn, the reply, text outside ASCII.
func TestLiveOllamaScript(t *testing.T) {
	c := liveServer(t)
	s := otherScript
	name := createModel(t, c, s, "other")
	question := api.Message{Role: "user", Content: "Which sites are there, and what did Chiller 6 do?"}
	tools := api.Tools{historyTool, sitesTool}
	calls := chat(t, c, api.ChatRequest{Model: name, Messages: []api.Message{question}, Tools: tools})
	checkCalls(t, calls.resp.Message.ToolCalls, s.ToolCalls)
	msgs := []api.Message{question, callMessage(s.ToolCalls),
		{Role: "tool", ToolName: "iot.sites", Content: `{"sites":["MAIN"]}`},
		{Role: "tool", ToolName: "iot.history", Content: `{"records":[]}`}}
	ans := chat(t, c, api.ChatRequest{Model: name, Messages: msgs, Tools: tools})
	if ans.resp.Message.Content != s.Answer {
		t.Errorf("answer %q, want %q", ans.resp.Message.Content, s.Answer)
	}
	rep := chat(t, c, api.ChatRequest{Model: name, Messages: []api.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hello"}}})
	if rep.resp.Message.Content != s.Reply {
		t.Errorf("reply %q, want %q", rep.resp.Message.Content, s.Reply)
	}
	// A tool the request does not offer is not a call: Ollama drops it.
	none := chat(t, c, api.ChatRequest{Model: name, Messages: []api.Message{question}, Tools: api.Tools{mustTool(`{"type":"function","function":{"name":"wo.get_work_orders","parameters":{"type":"object","properties":{}}}}`)}})
	if len(none.resp.Message.ToolCalls) != 0 {
		t.Errorf("calls of tools not offered: %v", none.resp.Message.ToolCalls)
	}
	// Streaming gives the same text.
	var sb strings.Builder
	err := c.Chat(context.Background(), &api.ChatRequest{Model: name, Messages: []api.Message{{Role: "user", Content: "Hello"}}}, func(r api.ChatResponse) error {
		sb.WriteString(r.Message.Content)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sb.String() != s.Reply {
		t.Errorf("streamed reply %q", sb.String())
	}
}
