// Package llm is the model seam of the agents: a small Model interface shaped
// like Ollama's chat, embed and show API, and the types that cross it.
//
// The JSON field names match Ollama's wire format, so a request recorded in a
// cassette reads like the body that went over HTTP.
package llm

import (
	"context"
	"encoding/json"
	"time"
)

// Model is what agents, judges and embedders talk to. The Ollama client, the
// cassette recorder and anything that wraps them implement it.
type Model interface {
	Chat(ctx context.Context, req *ChatRequest) (*ChatResponse, error)
	Embed(ctx context.Context, req *EmbedRequest) (*EmbedResponse, error)
	Show(ctx context.Context, model string) (*ModelInfo, error)
}

// ChatRequest is a non-streaming /api/chat request.
type ChatRequest struct {
	Model    string          `json:"model"`
	Messages []Message       `json:"messages"`
	Tools    []Tool          `json:"tools,omitempty"`
	Format   json.RawMessage `json:"format,omitempty"`
	Options  Options         `json:"options"`
}

// Message is one chat turn. Role is system, user, assistant or tool.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Thinking   string     `json:"thinking,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolName   string     `json:"tool_name,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is a native tool call in an assistant message.
type ToolCall struct {
	ID       string           `json:"id,omitempty"`
	Function ToolCallFunction `json:"function"`
}

// ToolCallFunction names the tool and carries its arguments as the model
// produced them (a JSON object when the server parsed it).
type ToolCallFunction struct {
	Index     int             `json:"index"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Tool offers a function to the model.
type Tool struct {
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

// ToolFunction describes a function; Parameters is a JSON schema object.
type ToolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// Options are the sampling and context options sent with every call. Nil
// means "not set"; the harness sets all of them so that runs are repeatable.
type Options struct {
	Seed        *int     `json:"seed,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopK        *int     `json:"top_k,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	NumCtx      *int     `json:"num_ctx,omitempty"`
	NumPredict  *int     `json:"num_predict,omitempty"`
	Stop        []string `json:"stop,omitempty"`
}

// DefaultOptions are greedy decoding with a fixed seed and an explicit context.
func DefaultOptions() Options {
	return Options{
		Seed:        ptr(42),
		Temperature: ptr(0.0),
		TopK:        ptr(40),
		TopP:        ptr(0.9),
		NumCtx:      ptr(8192),
		NumPredict:  ptr(1024),
	}
}

func ptr[T any](v T) *T { return &v }

// ChatResponse is the whole reply to a chat request.
type ChatResponse struct {
	Model      string    `json:"model"`
	CreatedAt  time.Time `json:"created_at"`
	Message    Message   `json:"message"`
	Done       bool      `json:"done"`
	DoneReason string    `json:"done_reason,omitempty"`
	Metrics
}

// Metrics are the token counts and durations Ollama reports.
type Metrics struct {
	TotalDuration      time.Duration `json:"total_duration,omitempty"`
	LoadDuration       time.Duration `json:"load_duration,omitempty"`
	PromptEvalCount    int           `json:"prompt_eval_count,omitempty"`
	PromptEvalDuration time.Duration `json:"prompt_eval_duration,omitempty"`
	EvalCount          int           `json:"eval_count,omitempty"`
	EvalDuration       time.Duration `json:"eval_duration,omitempty"`
}

// EmbedRequest is an /api/embed request.
type EmbedRequest struct {
	Model   string   `json:"model"`
	Input   []string `json:"input"`
	Options Options  `json:"options"`
}

// EmbedResponse holds one vector per input.
type EmbedResponse struct {
	Model           string      `json:"model"`
	Embeddings      [][]float32 `json:"embeddings"`
	PromptEvalCount int         `json:"prompt_eval_count,omitempty"`
}

// ModelInfo is what the server says about a model: /api/show, the digest
// from /api/tags and the server version.
type ModelInfo struct {
	Name          string         `json:"name"`
	Digest        string         `json:"digest,omitempty"`
	ServerVersion string         `json:"server_version,omitempty"`
	Family        string         `json:"family,omitempty"`
	ParameterSize string         `json:"parameter_size,omitempty"`
	Quantization  string         `json:"quantization,omitempty"`
	Capabilities  []string       `json:"capabilities,omitempty"`
	Details       map[string]any `json:"model_info,omitempty"`
}

// Has reports whether the model declares a capability such as "tools".
func (m *ModelInfo) Has(capability string) bool {
	for _, c := range m.Capabilities {
		if c == capability {
			return true
		}
	}
	return false
}

// SimulatorKey is the model_info key with which the assetops simulator marks
// its reference policies, so that their rows are never mistaken for a model's.
const SimulatorKey = "assetops.reference_policy"

// ReferencePolicy returns the policy name when the model is one of the
// simulator's reference policies.
func (m *ModelInfo) ReferencePolicy() (string, bool) {
	p, ok := m.Details[SimulatorKey].(string)
	return p, ok && p != ""
}
