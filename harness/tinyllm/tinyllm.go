// Package tinyllm generates a tiny language model that the real Ollama
// server loads and that says what a script tells it to.
//
// Write produces a llama-architecture GGUF (F16, about 150 KB) with a
// byte-level gpt2 tokenizer (qwen2 pre-tokenizer, 2,075 merges trained on
// the harness's own prompts, see merges.txt) and ChatML specials. Its
// weights make greedy decoding depend on the last prompt token only, and
// Template puts a mode token there:
//
//   - <|tool_mode|> when the request offers tools and the last message is
//     the user's: the model emits Script.ToolCalls, each as
//     <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>, which
//     Ollama's tool parser turns into structured tool_calls;
//   - <|answer_mode|> after a tool result: the model emits Script.Answer;
//   - <|reply_mode|> otherwise: the model emits Script.Reply.
//
// Each scripted text is a single vocabulary token followed by <|im_end|>, so
// the text comes back byte for byte. The output does not depend on the rest
// of the prompt, the thread count or the batch size: the attention and
// feed-forward blocks are computed but their output projections are zero,
// so the last hidden state is the last token's embedding.
//
// Create uploads the file to a running server and creates the model with
// Template and Parameters.
//
// Ollama's tool parser builds the arguments of a tool call from a Go map,
// so their key order in a response varies from call to call: compare them
// as JSON values, not as bytes.
package tinyllm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/fs/ggml"
)

// Script is what the model says.
type Script struct {
	// ToolCalls are emitted, one JSON object per call {"name": ...,
	// "arguments": {...}}, when the request has tools and the last message
	// is the user's. With no calls, Reply is emitted instead.
	ToolCalls []Call
	// Answer is emitted after a tool result (last message has role tool).
	Answer string
	// Reply is emitted otherwise (no tools, last message from the user).
	Reply string
}

// Call is one scripted tool call. Arguments is a JSON object (nil means {}).
type Call struct {
	Name      string
	Arguments json.RawMessage
}

// Model shape. The context is long enough for the harness's largest
// prompts; NumCtx, what Parameters asks for, is the harness's default
// num_ctx, so that its requests do not reload the model. The network is as
// small as llama.cpp allows (one block, one head of 8): its attention is
// computed for every prompt token and costs the same whatever it computes,
// while the output never depends on it.
const (
	Architecture  = "llama"
	ContextLength = 32768
	NumCtx        = 8192

	embd    = 8
	layers  = 1
	heads   = 1
	kvHeads = 1
	ff      = 16
	headDim = embd / heads
	seed    = 0x7a1e5eed
)

// Template is the Ollama TEMPLATE, after Qwen2.5's: the system message and
// the tools in the system prompt, assistant tool calls as <tool_call>
// blocks (from which Ollama infers its tool-call tag), tool results as
// <tool_response> user turns; after the final "<|im_start|>assistant\n" it
// appends the mode token that selects the scripted output.
const Template = `{{- if .Messages }}
{{- if or .System .Tools }}<|im_start|>system
{{- if .System }}
{{ .System }}
{{- end }}
{{- if .Tools }}

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{{- range .Tools }}
{"type": "function", "function": {{ json .Function }}}
{{- end }}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call>
{{- end }}<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ if .Content }}{{ .Content }}
{{- else if .ToolCalls }}<tool_call>
{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ json .Function.Arguments }}}
{{ end }}</tool_call>
{{- end }}{{ if not $last }}<|im_end|>
{{ end }}
{{- else if eq .Role "tool" }}<|im_start|>user
<tool_response>
{{ .Content }}
</tool_response><|im_end|>
{{ end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
{{ if eq .Role "tool" }}<|answer_mode|>{{ else if and $.Tools (eq .Role "user") }}<|tool_mode|>{{ else }}<|reply_mode|>{{ end }}
{{- end }}
{{- end }}
{{- else }}
{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
<|reply_mode|>{{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }}`

// Parameters are the Modelfile parameters the model is created with: greedy
// decoding, a fixed seed, one thread (the default thread count is
// pathological on small machines), the ChatML stop and the harness's
// default num_ctx, so that the harness's requests do not reload the model.
func Parameters() map[string]any {
	return map[string]any{
		"temperature": 0,
		"seed":        42,
		"num_thread":  1,
		"num_ctx":     NumCtx,
		"stop":        []string{tokIMEnd},
	}
}

// ToolCallText is the text the model emits for the script's tool calls.
func ToolCallText(calls []Call) (string, error) {
	var b strings.Builder
	for i, c := range calls {
		if c.Name == "" {
			return "", fmt.Errorf("tinyllm: tool call %d has no name", i)
		}
		name, err := marshalNoEscape(c.Name)
		if err != nil {
			return "", err
		}
		args := []byte("{}")
		if len(bytes.TrimSpace(c.Arguments)) > 0 {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(c.Arguments, &obj); err != nil || obj == nil {
				return "", fmt.Errorf("tinyllm: tool call %d (%s): arguments are not a JSON object", i, c.Name)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, c.Arguments); err != nil {
				return "", fmt.Errorf("tinyllm: tool call %d (%s): %w", i, c.Name, err)
			}
			args = buf.Bytes()
		}
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s\n{\"name\": %s, \"arguments\": %s}\n%s", tokToolCall, name, args, tokToolCallEnd)
	}
	return b.String(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// model is the vocabulary and the chain of a script.
type model struct {
	*vocab
	eos int
	// next maps each mode token to the token it produces.
	next [3]struct{ mode, out int }
}

func build(s Script) (*model, error) {
	v, err := baseVocab()
	if err != nil {
		return nil, err
	}
	m := &model{vocab: v, eos: v.ids[tokIMEnd]}
	tools, err := ToolCallText(s.ToolCalls)
	if err != nil {
		return nil, err
	}
	if len(s.ToolCalls) == 0 {
		tools = s.Reply
	}
	for i, o := range []struct{ mode, text string }{
		{tokToolMode, tools},
		{tokAnswerMode, s.Answer},
		{tokReplyMode, s.Reply},
	} {
		m.next[i].mode = v.ids[o.mode]
		if o.text == "" {
			m.next[i].out = m.eos
			continue
		}
		if !utf8.ValidString(o.text) {
			return nil, fmt.Errorf("tinyllm: scripted text %q is not UTF-8", o.text)
		}
		if strings.Contains(o.text, tokIMEnd) {
			return nil, fmt.Errorf("tinyllm: scripted text %q contains the stop %s", o.text, tokIMEnd)
		}
		text := tokenText(o.text)
		if id, ok := v.ids[text]; ok && v.types[id] == typeControl {
			return nil, fmt.Errorf("tinyllm: scripted text %q is a control token", o.text)
		}
		m.next[i].out = v.add(text, typeNormal)
	}
	return m, nil
}

// Write writes the GGUF of the model that follows the script. The bytes
// depend on the script only: fixed seeds, integer-derived weights, sorted
// keys and tensors.
func Write(w io.Writer, s Script) error {
	m, err := build(s)
	if err != nil {
		return err
	}
	kv := ggml.KV{
		"general.architecture":                   Architecture,
		"general.name":                           "assetops-tinyllm",
		"general.file_type":                      uint32(1), // mostly F16
		"general.alignment":                      uint32(32),
		"llama.block_count":                      uint32(layers),
		"llama.context_length":                   uint32(ContextLength),
		"llama.embedding_length":                 uint32(embd),
		"llama.feed_forward_length":              uint32(ff),
		"llama.attention.head_count":             uint32(heads),
		"llama.attention.head_count_kv":          uint32(kvHeads),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-6),
		"llama.rope.dimension_count":             uint32(headDim),
		"llama.rope.freq_base":                   float32(1e6),
		"llama.vocab_size":                       uint32(len(m.tokens)),
		"tokenizer.ggml.model":                   "gpt2",
		"tokenizer.ggml.pre":                     "qwen2",
		"tokenizer.ggml.tokens":                  m.tokens,
		"tokenizer.ggml.token_type":              m.types,
		"tokenizer.ggml.merges":                  m.merges,
		"tokenizer.ggml.bos_token_id":            uint32(m.ids[tokEndOfText]),
		"tokenizer.ggml.eos_token_id":            uint32(m.eos),
		"tokenizer.ggml.padding_token_id":        uint32(m.ids[tokEndOfText]),
		"tokenizer.ggml.add_bos_token":           false,
		"tokenizer.ggml.add_eos_token":           false,
	}
	// WriteGGUF wants a file: it seeks back to write the tensors.
	f, err := os.CreateTemp("", "tinyllm-*.gguf")
	if err != nil {
		return fmt.Errorf("tinyllm: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := ggml.WriteGGUF(f, kv, m.tensors()); err != nil {
		return fmt.Errorf("tinyllm: write gguf: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("tinyllm: %w", err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("tinyllm: %w", err)
	}
	return nil
}

// Bytes returns the GGUF of the script.
func Bytes(s Script) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Digest is the blob name Ollama gives the file: "sha256:<hex>".
func Digest(gguf []byte) string {
	sum := sha256.Sum256(gguf)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Create uploads the GGUF to the Ollama server at baseURL and creates the
// model name from it with Template and Parameters. It returns once the
// server reports success.
func Create(ctx context.Context, baseURL, name string, gguf []byte) error {
	raw := strings.TrimRight(baseURL, "/")
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("tinyllm: create %s: bad server url %q", name, baseURL)
	}
	client := api.NewClient(u, http.DefaultClient)
	digest := Digest(gguf)
	if err := client.CreateBlob(ctx, digest, bytes.NewReader(gguf)); err != nil {
		return fmt.Errorf("tinyllm: create %s: upload blob %s to %s: %w", name, digest, baseURL, err)
	}
	stream := false
	req := &api.CreateRequest{
		Model:      name,
		Stream:     &stream,
		Files:      map[string]string{"model.gguf": digest},
		Template:   Template,
		Parameters: Parameters(),
	}
	var status string
	err = client.Create(ctx, req, func(p api.ProgressResponse) error {
		status = p.Status
		return nil
	})
	if err != nil {
		return fmt.Errorf("tinyllm: create %s on %s: %w", name, baseURL, err)
	}
	if status != "success" {
		return fmt.Errorf("tinyllm: create %s on %s: server said %q, not success", name, baseURL, status)
	}
	return nil
}
