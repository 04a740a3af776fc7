package react

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/trajectory"
)

// script is a Model that plays fixed replies and keeps the requests.
type script struct {
	replies []llm.Message
	err     error // returned once the replies run out; nil repeats the last
	seen    []*llm.ChatRequest
}

func (s *script) Chat(_ context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	s.seen = append(s.seen, req)
	i := len(s.seen) - 1
	if i >= len(s.replies) {
		if s.err != nil {
			return nil, s.err
		}
		i = len(s.replies) - 1
	}
	return &llm.ChatResponse{Message: s.replies[i], Done: true, Metrics: llm.Metrics{PromptEvalCount: 10, EvalCount: 2}}, nil
}

func (s *script) Embed(context.Context, *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	return nil, errors.New("no embeddings")
}

func (s *script) Show(context.Context, string) (*llm.ModelInfo, error) { return &llm.ModelInfo{}, nil }

func call(id, name, args string) llm.Message {
	return llm.Message{Role: "assistant", ToolCalls: []llm.ToolCall{{ID: id, Function: llm.ToolCallFunction{Name: name, Arguments: json.RawMessage(args)}}}}
}

func answer(text string) llm.Message { return llm.Message{Role: "assistant", Content: text} }

func agent(t *testing.T, m llm.Model) *Agent {
	return &Agent{
		Model: m, ModelName: "scripted", MaxSteps: 4, Options: llm.DefaultOptions(),
		Actions: ToolActions(agentstest.Registry(t)),
	}
}

func TestRecoversFromBadToolCalls(t *testing.T) {
	m := &script{replies: []llm.Message{
		call("c1", "iot.nope", `{}`),
		call("c2", "iot.sites", `{"site_name":`),
		call("c3", "iot.assets", `{"site_name":"NORTH"}`),
		call("c4", "iot.assets", `{"site_name":"MAIN"}`),
		answer("Chiller 6 and Chiller 9."),
	}}
	a := agent(t, m)
	a.MaxSteps = 5
	tr, err := a.Run(context.Background(), "s1", "What assets are at MAIN?")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != trajectory.StatusAnswered || tr.FinalAnswer != "Chiller 6 and Chiller 9." {
		t.Fatalf("status %s, answer %q", tr.Status, tr.FinalAnswer)
	}
	wantErr := []string{"unknown tool", "invalid arguments for iot.sites", `unknown site "NORTH"`, ""}
	if len(tr.Steps) != len(wantErr) {
		t.Fatalf("%d steps, want %d", len(tr.Steps), len(wantErr))
	}
	for i, st := range tr.Steps {
		if (wantErr[i] == "") != st.OK() || !strings.Contains(st.Error, wantErr[i]) {
			t.Errorf("step %d error %q, want %q", i+1, st.Error, wantErr[i])
		}
		if !json.Valid(st.Args) || !json.Valid(st.Observation) {
			t.Errorf("step %d args %s or observation %s is not JSON", i+1, st.Args, st.Observation)
		}
	}
	if got := string(tr.Steps[1].Args); got != `"{\"site_name\":"` {
		t.Errorf("broken arguments kept as %s, want them as a JSON string", got)
	}
	// The model saw each result as a tool message naming the call.
	last := m.seen[len(m.seen)-1].Messages
	toolMsg := last[len(last)-1]
	if toolMsg.Role != "tool" || toolMsg.ToolName != "iot.assets" || toolMsg.ToolCallID != "c4" || !strings.Contains(toolMsg.Content, "Chiller 9") {
		t.Errorf("last tool message = %+v", toolMsg)
	}
	if tr.Usage.Calls != 5 || tr.Usage.PromptTokens != 50 || tr.Usage.CompletionTokens != 10 {
		t.Errorf("usage = %+v", tr.Usage)
	}
}

func TestStepLimit(t *testing.T) {
	m := &script{replies: []llm.Message{
		call("c1", "iot.assets", `{"site_name":"MAIN"}`),
		call("c2", "iot.sites", `{}`),
		call("c3", "iot.assets", `{"site_name":"main"}`),
		call("c4", "iot.assets", `{"site_name":"MAIN "}`),
		answer("too late"),
	}}
	tr, err := agent(t, m).Run(context.Background(), "s1", "loop forever")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != trajectory.StatusStepLimit || len(m.seen) != 4 || len(tr.Steps) != 4 || tr.FinalAnswer != "" {
		t.Errorf("status %s after %d calls and %d steps, answer %q; want step_limit after 4", tr.Status, len(m.seen), len(tr.Steps), tr.FinalAnswer)
	}
}

func TestModelErrorEndsTheRun(t *testing.T) {
	// One good reply, then the server dies.
	m := &script{replies: []llm.Message{call("c", "iot.sites", `{}`)}, err: errors.New("connection reset")}
	tr, err := agent(t, m).Run(context.Background(), "s1", "q")
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err = %v, want the model's error", err)
	}
	if tr.Status != trajectory.StatusError || len(tr.Steps) != 1 {
		t.Errorf("status %s with %d steps, want error after 1 step", tr.Status, len(tr.Steps))
	}
}

func TestRequestCarriesToolsAndOptions(t *testing.T) {
	m := &script{replies: []llm.Message{answer("done")}}
	if _, err := agent(t, m).Run(context.Background(), "s1", "q"); err != nil {
		t.Fatal(err)
	}
	req := m.seen[0]
	if len(req.Tools) != len(agentstest.Registry(t).Tools()) || req.Options.Seed == nil || req.Messages[0].Role != "system" || req.Messages[1].Content != "q" {
		t.Errorf("request = %d tools, options %+v, messages %+v", len(req.Tools), req.Options, req.Messages)
	}
}
