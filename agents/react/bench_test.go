package react

import (
	"context"
	"fmt"
	"testing"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
)

type noopIn struct {
	I int `json:"i"`
}

// counting is a zero-latency model: a call of bench.noop with a new
// argument each turn, then an answer, on either protocol.
type counting struct {
	steps int
	text  bool
}

func (c *counting) Chat(_ context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	turn := 0
	for _, m := range req.Messages {
		if m.Role == "assistant" {
			turn++
		}
	}
	var msg llm.Message
	switch {
	case turn >= c.steps && c.text:
		msg.Content = "Thought: done\nFinal Answer: done"
	case turn >= c.steps:
		msg.Content = "done"
	case c.text:
		msg.Content = fmt.Sprintf("Thought: step %d\nAction: bench.noop\nAction Input: {\"i\": %d}", turn, turn)
	default:
		msg.ToolCalls = []llm.ToolCall{{ID: "c", Function: llm.ToolCallFunction{Name: "bench.noop", Arguments: []byte(fmt.Sprintf(`{"i":%d}`, turn))}}}
	}
	return &llm.ChatResponse{Message: msg, Done: true}, nil
}

func (c *counting) Embed(context.Context, *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	return nil, nil
}
func (c *counting) Show(context.Context, string) (*llm.ModelInfo, error) {
	return &llm.ModelInfo{}, nil
}

// BenchmarkStepOverhead is what the agent loop costs a step beyond the model
// and the tool: building the request, parsing the reply, validating the
// arguments against the schema, loop detection, recording the step. The
// model answers instantly and the tool does nothing.
func BenchmarkStepOverhead(b *testing.B) {
	const steps = 20
	reg := tools.NewRegistry(tools.New("bench.noop", "Does nothing.", func(_ context.Context, in noopIn) (noopIn, error) { return in, nil }))
	for _, protocol := range []string{trajectory.ProtocolNative, trajectory.ProtocolText} {
		b.Run(protocol, func(b *testing.B) {
			a := &Agent{Model: &counting{steps: steps, text: protocol == trajectory.ProtocolText}, ModelName: "bench",
				Actions: ToolActions(reg), Options: llm.DefaultOptions(), Protocol: protocol, MaxSteps: steps + 1}
			b.ReportAllocs()
			for b.Loop() {
				tr, err := a.Run(context.Background(), "s", "q")
				if err != nil || len(tr.Steps) != steps {
					b.Fatalf("%d steps, %v", len(tr.Steps), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps)/1e3, "µs/step")
		})
	}
}
