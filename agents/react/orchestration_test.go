package react

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/google/go-cmp/cmp"
)

func kinds(tr *trajectory.Trajectory) []string {
	var out []string
	for _, s := range tr.Steps {
		out = append(out, s.Kind+":"+s.Tool)
	}
	return out
}

// The same call with the same arguments (in any key order) is refused with
// an observation; after DefaultMaxRepeats refusals the run stops as a loop.
func TestLoopDetection(t *testing.T) {
	m := &script{replies: []llm.Message{
		call("c1", "iot.assets", `{"site_name":"MAIN"}`),
		call("c2", "iot.assets", `{"site_name":"MAIN"}`),
		call("c3", "iot.assets", `{ "site_name" : "MAIN" }`),
		call("c4", "iot.assets", `{"site_name":"MAIN"}`),
		answer("never reached"),
	}}
	a := agent(t, m)
	a.MaxSteps = 6
	tr, err := a.Run(context.Background(), "s", "q")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tool:iot.assets", "invalid:iot.assets", "invalid:iot.assets", "invalid:iot.assets"}
	if diff := cmp.Diff(want, kinds(tr)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if tr.Status != trajectory.StatusLoop || tr.FinalAnswer != "" {
		t.Errorf("status %s, answer %q; want loop", tr.Status, tr.FinalAnswer)
	}
	if !strings.Contains(tr.Steps[1].Error, "Loop detected") {
		t.Errorf("loop step error %q", tr.Steps[1].Error)
	}
	// The model was told, in the tool message answering its call.
	msgs := m.seen[2].Messages
	if last := msgs[len(msgs)-1]; last.Role != "tool" || !strings.Contains(last.Content, "Loop detected") {
		t.Errorf("the model was not told of the loop: %+v", last)
	}
	// Loops are not actions the judges count.
	if got := len(tr.Actions()); got != 1 {
		t.Errorf("%d actions, want 1", got)
	}
}

// A native model that writes its tool call as text gets an invalid step and
// a second chance, instead of having the JSON taken as its answer.
func TestToolCallWrittenAsText(t *testing.T) {
	m := &script{replies: []llm.Message{
		answer("<tool_call>\n{\"name\": \"iot.sites\", \"arguments\": {}}\n</tool_call>"),
		call("c1", "iot.sites", `{}`),
		answer("The site is MAIN."),
	}}
	tr, err := agent(t, m).Run(context.Background(), "s", "Which sites are there?")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"invalid:iot.sites", "tool:iot.sites"}, kinds(tr)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if tr.Status != trajectory.StatusAnswered || tr.FinalAnswer != "The site is MAIN." {
		t.Errorf("status %s, answer %q", tr.Status, tr.FinalAnswer)
	}
	if !strings.Contains(m.seen[1].Messages[len(m.seen[1].Messages)-1].Content, "Invalid action format") {
		t.Error("the model was not told its call was malformed")
	}
}

// On the text protocol the tools are in the system prompt, not the request;
// an unparseable reply is an invalid step the model recovers from, and
// observations come back as "Observation:" user turns.
func TestTextProtocol(t *testing.T) {
	m := &script{replies: []llm.Message{
		answer("I think I should look at the sites."),
		answer("Thought: list the sites\nAction: iot.sites\nAction Input: {}"),
		answer("Thought: MAIN is the only one.\nFinal Answer: The only site is MAIN."),
	}}
	a := agent(t, m)
	a.Protocol = trajectory.ProtocolText
	tr, err := a.Run(context.Background(), "s", "Which sites are there?")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"invalid:", "tool:iot.sites"}, kinds(tr)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if tr.Protocol != trajectory.ProtocolText || tr.Status != trajectory.StatusAnswered || tr.FinalAnswer != "The only site is MAIN." {
		t.Errorf("protocol %s, status %s, answer %q", tr.Protocol, tr.Status, tr.FinalAnswer)
	}
	first := m.seen[0]
	if len(first.Tools) != 0 || !strings.Contains(first.Messages[0].Content, "Action Input:") || !strings.Contains(first.Messages[0].Content, "iot.history") {
		t.Errorf("text request offers %d native tools; system prompt lacks the tool list or format", len(first.Tools))
	}
	last := m.seen[2].Messages
	if obs := last[len(last)-1]; obs.Role != "user" || !strings.HasPrefix(obs.Content, "Observation: ") || !strings.Contains(obs.Content, "MAIN") {
		t.Errorf("last message %+v, want the observation", obs)
	}
	if obs := last[len(last)-3]; !strings.HasPrefix(obs.Content, "Observation: Invalid format") {
		t.Errorf("the parse error did not reach the model: %+v", obs)
	}
}

// A review that finds the task not accomplished triggers one more attempt,
// with the review in the prompt; a second bad review does not loop.
func TestReviewRetriesOnce(t *testing.T) {
	m := &script{replies: []llm.Message{
		answer("I do not know."),
		answer(`{"status": "Not Accomplished", "reasoning": "no tool was used", "suggestions": "call iot.sites"}`),
		call("c1", "iot.sites", `{}`),
		answer("The site is MAIN."),
	}}
	a := agent(t, m)
	a.Review = true
	tr, err := a.Run(context.Background(), "s", "Which sites are there?")
	if err != nil {
		t.Fatal(err)
	}
	if tr.FinalAnswer != "The site is MAIN." || len(tr.Reviews) != 1 || tr.Reviews[0].Status != "not accomplished" {
		t.Fatalf("answer %q, reviews %+v", tr.FinalAnswer, tr.Reviews)
	}
	if m.seen[1].Messages[0].Content != ReviewPrompt || string(m.seen[1].Format) != `"json"` {
		t.Errorf("review request: %+v", m.seen[1])
	}
	retry := m.seen[2].Messages
	if len(retry) != 3 || !strings.Contains(retry[2].Content, "call iot.sites") {
		t.Errorf("retry prompt lacks the review: %+v", retry)
	}
	if len(m.seen) != 4 || tr.Usage.Calls != 4 {
		t.Errorf("%d model calls, usage %d; want 4", len(m.seen), tr.Usage.Calls)
	}
}

func TestParseReview(t *testing.T) {
	tests := []struct {
		in   string
		want trajectory.Review
	}{
		{`{"status":"Accomplished","reasoning":"ok"}`, trajectory.Review{Status: "accomplished", Reasoning: "ok"}},
		{"Here you go:\n```json\n{\"Status\": \"valid\", \"Suggestions\": \"none\"}\n```", trajectory.Review{Status: "valid", Suggestions: "none"}},
		{`Task Status: Accomplished`, trajectory.Review{Status: "unreadable", Text: "Task Status: Accomplished"}},
		{`{"reasoning":"no status"}`, trajectory.Review{Status: "unreadable", Text: `{"reasoning":"no status"}`}},
		{``, trajectory.Review{Status: "unreadable"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ParseReview(tt.in)); diff != "" {
			t.Errorf("ParseReview(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestTruncation(t *testing.T) {
	numCtx := 100
	req := &llm.ChatRequest{Options: llm.Options{NumCtx: &numCtx}, Messages: []llm.Message{{Role: "user", Content: strings.Repeat("word ", 200)}}}
	tests := []struct {
		name      string
		evaluated int
		want      bool
	}{
		{"cut to the context", 100, true},
		{"all of it", 260, false},
		{"not reported", 0, false},
	}
	for _, tt := range tests {
		got := Truncation(req, &llm.ChatResponse{Metrics: llm.Metrics{PromptEvalCount: tt.evaluated}})
		if (got != "") != tt.want {
			t.Errorf("%s: %q", tt.name, got)
		}
	}
	if got := Truncation(&llm.ChatRequest{Messages: req.Messages}, &llm.ChatResponse{Metrics: llm.Metrics{PromptEvalCount: 10}}); got != "" {
		t.Errorf("without num_ctx nothing is known, got %q", got)
	}
	// Recorded in the trajectory as it happens.
	m := &script{replies: []llm.Message{answer("ok")}}
	a := agent(t, m)
	a.Options.NumCtx = &numCtx
	tr, _ := a.Run(context.Background(), "s", "q")
	if len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0], "prompt truncated") {
		t.Errorf("warnings %q", tr.Warnings)
	}
}

type fixedAsker string

func (f fixedAsker) Answer(context.Context, string) string { return string(f) }

func TestAskAndAgentActions(t *testing.T) {
	reg := agentstest.Registry(t)
	inner := &script{replies: []llm.Message{call("i1", "iot.sites", `{}`), answer("MAIN")}}
	sub := &Agent{Name: "iot", Model: inner, ModelName: "scripted", Actions: ToolActions(reg), Options: llm.DefaultOptions()}
	outer := &script{replies: []llm.Message{
		call("o1", "ask_user", `{"question":"Which plant?"}`),
		call("o2", "ask_user", `{"q":"bad"}`),
		call("o3", "IoTAgent", `{"request":"list the sites"}`),
		answer("The site is MAIN."),
	}}
	a := &Agent{Name: trajectory.StyleToolAsAgent, Model: outer, ModelName: "scripted", Options: llm.DefaultOptions(),
		Actions: []Action{AgentAction("IoTAgent", "sites and sensors", sub), AskAction(fixedAsker("The north plant."))}}
	tr, err := a.Run(context.Background(), "s", "Which sites?")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ask_user:ask_user", "ask_user:ask_user", "agent:IoTAgent"}, kinds(tr)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	if got := string(tr.Steps[0].Observation); got != `{"answer":"The north plant."}` {
		t.Errorf("ask observation %s", got)
	}
	if tr.Steps[1].OK() || !strings.Contains(string(tr.Steps[1].Observation), "invalid_arguments") {
		t.Errorf("a malformed question is an argument error: %+v", tr.Steps[1])
	}
	st := tr.Steps[2]
	var obs struct {
		Agent, Answer, Status string
		Evidence              []Evidence
	}
	if err := json.Unmarshal(st.Observation, &obs); err != nil {
		t.Fatal(err)
	}
	if st.Sub == nil || st.Sub.Agent != "iot" || obs.Answer != "MAIN" || obs.Status != "answered" || len(obs.Evidence) != 1 || obs.Evidence[0].Tool != "iot.sites" {
		t.Errorf("agent step: sub %v, observation %s", st.Sub != nil, st.Observation)
	}
	// The judges see the sub-agent's tool call in place of the agent call.
	var actions []string
	for _, s := range tr.Actions() {
		actions = append(actions, s.Tool)
	}
	if diff := cmp.Diff([]string{"ask_user", "ask_user", "iot.sites"}, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	// Usage counts the sub-agent's calls too.
	if tr.Usage.Calls != 6 {
		t.Errorf("usage calls %d, want 6 (4 outer + 2 inner)", tr.Usage.Calls)
	}
}

func TestRotateAndCanned(t *testing.T) {
	acts := []Action{Canned("A", "a", "ra"), Canned("B", "b", "rb"), Canned("C", "c", "rc")}
	names := func(as []Action) string {
		var s []string
		for _, a := range as {
			s = append(s, a.Spec().Function.Name)
		}
		return strings.Join(s, "")
	}
	for k, want := range map[int]string{0: "ABC", 1: "BCA", 4: "BCA", -1: "CAB"} {
		if got := names(Rotate(acts, k)); got != want {
			t.Errorf("Rotate(%d) = %s, want %s", k, got, want)
		}
	}
	if names(acts) != "ABC" {
		t.Error("Rotate changed its input")
	}
	st, err := acts[1].Do(context.Background(), json.RawMessage(`{"request":"anything"}`))
	if err != nil || st.Kind != trajectory.KindAgent || !strings.Contains(string(st.Observation), "rb") {
		t.Errorf("canned step %+v, %v", st, err)
	}
}
