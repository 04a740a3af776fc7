package llm_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/harness/sim"
	"github.com/assetops/assetops/scenarios"
)

func TestParseOllamaURL(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "127.0.0.1:11500", want: "http://127.0.0.1:11500"},
		{in: "localhost", want: "http://localhost:11434"},
		{in: "http://127.0.0.1:9/", want: "http://127.0.0.1:9/"},
		{in: "https://ollama.internal", want: "https://ollama.internal:11434"},
		{in: "ftp://x", wantErr: "scheme"},
		{in: "http://", wantErr: "no host"},
	}
	for _, tt := range tests {
		u, err := llm.ParseOllamaURL(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseOllamaURL(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("ParseOllamaURL(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

func simServer(t *testing.T) *llm.Ollama {
	t.Helper()
	ss, err := scenarios.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.New(map[string]sim.Policy{"oracle": sim.NewOracle(ss)}))
	t.Cleanup(srv.Close)
	o, err := llm.NewOllama(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOllamaChatWithTools(t *testing.T) {
	o := simServer(t)
	ctx := context.Background()
	tool := llm.Tool{Type: "function", Function: llm.ToolFunction{
		Name: "tsfm.get_tsfm_models", Parameters: json.RawMessage(`{"type":"object","properties":{}}`),
	}}
	req := &llm.ChatRequest{
		Model:    "oracle",
		Messages: []llm.Message{{Role: "user", Content: "Which time-series forecasting models are available, and what context length does each one need?"}},
		Tools:    []llm.Tool{tool},
		Options:  llm.DefaultOptions(),
	}
	resp, err := o.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Message.ToolCalls
	if len(calls) != 1 || calls[0].Function.Name != "tsfm.get_tsfm_models" || !resp.Done {
		t.Fatalf("first reply = %+v, want one tool call to tsfm.get_tsfm_models", resp.Message)
	}
	req.Messages = append(req.Messages, resp.Message,
		llm.Message{Role: "tool", ToolName: "tsfm.get_tsfm_models", ToolCallID: calls[0].ID, Content: `{"models":[]}`})
	resp, err = o.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Message.ToolCalls) != 0 || !strings.Contains(resp.Message.Content, "seasonal_naive_daily") {
		t.Fatalf("second reply = %+v, want the gold answer", resp.Message)
	}
	if resp.PromptEvalCount == 0 || resp.EvalCount == 0 || resp.DoneReason != "stop" {
		t.Errorf("response lacks counts or done reason: %+v", resp)
	}
}

func TestOllamaShow(t *testing.T) {
	info, err := simServer(t).Show(context.Background(), "oracle")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Has("tools") || info.Digest == "" || info.ServerVersion != sim.Version {
		t.Errorf("Show = %+v, want tools capability, a digest and the simulator version", info)
	}
	if p, ok := info.ReferencePolicy(); !ok || p != "oracle" {
		t.Errorf("ReferencePolicy = %q, %v; want oracle", p, ok)
	}
}

func TestOllamaErrors(t *testing.T) {
	ctx := context.Background()
	o := simServer(t)
	_, err := o.Chat(ctx, &llm.ChatRequest{Model: "nope", Messages: []llm.Message{{Role: "user", Content: "hi"}}})
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "model 'nope' not found") {
		t.Errorf("unknown model: err = %v", err)
	}

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dead, err := llm.NewOllama(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dead.Show(ctx, "m")
	if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "\n") {
		t.Errorf("unreachable server: err = %v, want one line saying connection refused", err)
	}
}

func TestOllamaEmbed(t *testing.T) {
	o := simServer(t)
	resp, err := o.Embed(context.Background(), &llm.EmbedRequest{Model: "oracle", Input: []string{"condenser fouling", "condenser fouling"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Embeddings) != 2 || len(resp.Embeddings[0]) != sim.EmbeddingDims {
		t.Fatalf("got %d embeddings", len(resp.Embeddings))
	}
	norm := 0.0
	for i, x := range resp.Embeddings[0] {
		norm += float64(x * x)
		if x != resp.Embeddings[1][i] {
			t.Fatal("the same text embedded differently")
		}
	}
	if norm < 0.999 || norm > 1.001 {
		t.Errorf("squared norm %.4f, want 1", norm)
	}
}
