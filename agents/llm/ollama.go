package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/ollama/ollama/api"
)

// DefaultOllamaURL is where Ollama listens when nothing else is said.
const DefaultOllamaURL = "http://127.0.0.1:11434"

// Ollama is a Model served by an Ollama-protocol server over HTTP.
type Ollama struct {
	base   string
	client *api.Client
}

// NewOllama returns a client for the server at rawURL. An empty rawURL means
// $OLLAMA_HOST, then DefaultOllamaURL. Like OLLAMA_HOST, the scheme and the
// port may be left out ("127.0.0.1:11500", "localhost").
func NewOllama(rawURL string, hc *http.Client) (*Ollama, error) {
	if rawURL == "" {
		rawURL = os.Getenv("OLLAMA_HOST")
	}
	if rawURL == "" {
		rawURL = DefaultOllamaURL
	}
	u, err := ParseOllamaURL(rawURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Ollama{base: u.String(), client: api.NewClient(u, hc)}, nil
}

// ParseOllamaURL accepts what OLLAMA_HOST accepts: host, host:port or a URL.
func ParseOllamaURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("ollama url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("ollama url %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("ollama url %q: no host", raw)
	}
	if u.Port() == "" {
		u.Host += ":11434"
	}
	return u, nil
}

// URL is the server's base URL.
func (o *Ollama) URL() string { return o.base }

// Chat sends a non-streaming chat request.
func (o *Ollama) Chat(ctx context.Context, req *ChatRequest) (*ChatResponse, error) {
	var areq api.ChatRequest
	if err := convert(req, &areq); err != nil {
		return nil, fmt.Errorf("ollama %s: chat %s: encode request: %w", o.base, req.Model, err)
	}
	stream := false
	areq.Stream = &stream
	var last api.ChatResponse
	err := o.client.Chat(ctx, &areq, func(r api.ChatResponse) error {
		last = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ollama %s: chat %s: %w", o.base, req.Model, unwrapStatus(err))
	}
	var resp ChatResponse
	if err := convert(&last, &resp); err != nil {
		return nil, fmt.Errorf("ollama %s: chat %s: decode response: %w", o.base, req.Model, err)
	}
	return &resp, nil
}

// Embed embeds each input.
func (o *Ollama) Embed(ctx context.Context, req *EmbedRequest) (*EmbedResponse, error) {
	var areq api.EmbedRequest
	if err := convert(req, &areq); err != nil {
		return nil, fmt.Errorf("ollama %s: embed %s: encode request: %w", o.base, req.Model, err)
	}
	ares, err := o.client.Embed(ctx, &areq)
	if err != nil {
		return nil, fmt.Errorf("ollama %s: embed %s: %w", o.base, req.Model, unwrapStatus(err))
	}
	return &EmbedResponse{Model: ares.Model, Embeddings: ares.Embeddings, PromptEvalCount: ares.PromptEvalCount}, nil
}

// Show describes a model: /api/show for capabilities and details, /api/tags
// for the digest and /api/version for the server.
func (o *Ollama) Show(ctx context.Context, model string) (*ModelInfo, error) {
	show, err := o.client.Show(ctx, &api.ShowRequest{Model: model})
	if err != nil {
		return nil, fmt.Errorf("ollama %s: show %s: %w", o.base, model, unwrapStatus(err))
	}
	info := &ModelInfo{
		Name:          model,
		Family:        show.Details.Family,
		ParameterSize: show.Details.ParameterSize,
		Quantization:  show.Details.QuantizationLevel,
		Details:       show.ModelInfo,
	}
	for _, c := range show.Capabilities {
		info.Capabilities = append(info.Capabilities, string(c))
	}
	tags, err := o.client.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("ollama %s: list models: %w", o.base, unwrapStatus(err))
	}
	for _, m := range tags.Models {
		if sameModel(m.Name, model) || sameModel(m.Model, model) {
			info.Digest = m.Digest
			break
		}
	}
	if info.ServerVersion, err = o.client.Version(ctx); err != nil {
		return nil, fmt.Errorf("ollama %s: version: %w", o.base, unwrapStatus(err))
	}
	return info, nil
}

// sameModel compares names the way Ollama resolves them: "m" is "m:latest".
func sameModel(a, b string) bool {
	norm := func(s string) string {
		if !strings.Contains(s, ":") {
			return s + ":latest"
		}
		return s
	}
	return norm(a) == norm(b)
}

// convert moves a value between our types and the api package's through JSON;
// both follow Ollama's wire format, so the mapping is the protocol itself.
func convert(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, to)
}

// unwrapStatus turns api.StatusError into a short one-line error.
func unwrapStatus(err error) error {
	var se api.StatusError
	if errors.As(err, &se) {
		msg := se.ErrorMessage
		if msg == "" {
			msg = se.Status
		}
		return fmt.Errorf("server said %d: %s", se.StatusCode, strings.TrimSpace(msg))
	}
	return err
}
