// Package sim is an Ollama-protocol server whose "models" are reference
// policies: scripted players that follow, or deliberately break, each
// scenario's gold trajectory. It lets tests drive the real Ollama client
// over real HTTP without a model. It is a test instrument: what its policies
// score is a check of the harness, never a model's result.
//
// It answers /api/chat (streaming or not), /api/embed, /api/tags, /api/show
// and /api/version, with Ollama's JSON types.
package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/scenarios"
	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/types/model"
)

// Version is what /api/version reports.
const Version = "0.0.0-assetops-sim"

// Family is the model family the simulator reports for every policy.
const Family = "reference-policy"

// epoch is the fixed clock of every response, so recordings are repeatable.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Policy decides the next assistant message of a conversation.
type Policy interface {
	// Reply answers a chat request; an error is returned to the client as
	// HTTP 400.
	Reply(req *api.ChatRequest) (api.Message, error)
	// Fingerprint identifies what the policy plays (its scripts); it becomes
	// the model digest, so a changed script is a different model.
	Fingerprint() string
}

// Policies are the reference policies over ss, by model name: "oracle",
// and "oracle-text", the same oracle served without the tools capability.
func Policies(ss []scenarios.Scenario) map[string]Policy {
	o := NewOracle(ss)
	return map[string]Policy{"oracle": o, "oracle-text": TextOnly(o)}
}

// TextOnly serves p as a model without the tools capability, so that
// clients choose the text ReAct protocol for it. The oracle plays either
// protocol; this only changes what /api/show reports.
func TextOnly(p Policy) Policy { return textOnly{p} }

type textOnly struct{ Policy }

// Server serves policies by model name.
type Server struct {
	policies map[string]Policy
	mux      *http.ServeMux
}

// New returns a server with the named policies. Names are model names as
// clients send them ("oracle" is also reachable as "oracle:latest").
func New(policies map[string]Policy) *Server {
	s := &Server{policies: map[string]Policy{}, mux: http.NewServeMux()}
	for name, p := range policies {
		s.policies[strings.TrimSuffix(name, ":latest")] = p
	}
	s.mux.HandleFunc("POST /api/chat", s.chat)
	s.mux.HandleFunc("POST /api/embed", s.embed)
	s.mux.HandleFunc("GET /api/tags", s.tags)
	s.mux.HandleFunc("POST /api/show", s.show)
	s.mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": Version})
	})
	s.mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "Ollama is running")
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) policy(name string) (Policy, bool) {
	p, ok := s.policies[strings.TrimSuffix(name, ":latest")]
	return p, ok
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req api.ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, ok := s.policy(req.Model)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", req.Model))
		return
	}
	msg, err := p.Reply(&req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	msg.Role = "assistant"
	done := api.ChatResponse{
		Model: req.Model, CreatedAt: epoch, Message: msg, Done: true, DoneReason: "stop",
		Metrics: api.Metrics{PromptEvalCount: promptTokens(&req), EvalCount: replyTokens(msg)},
	}
	if req.Stream != nil && !*req.Stream {
		writeJSON(w, http.StatusOK, done)
		return
	}
	// Streamed like Ollama with tools: one chunk with the message, then an
	// empty done chunk carrying the reason and counts.
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	_ = enc.Encode(api.ChatResponse{Model: req.Model, CreatedAt: epoch, Message: msg})
	done.Message = api.Message{Role: "assistant"}
	_ = enc.Encode(done)
}

func (s *Server) embed(w http.ResponseWriter, r *http.Request) {
	var req api.EmbedRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, ok := s.policy(req.Model); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", req.Model))
		return
	}
	var inputs []string
	switch in := req.Input.(type) {
	case string:
		inputs = []string{in}
	case []any:
		for _, e := range in {
			str, ok := e.(string)
			if !ok {
				writeError(w, http.StatusBadRequest, "invalid input type")
				return
			}
			inputs = append(inputs, str)
		}
	default:
		writeError(w, http.StatusBadRequest, "invalid input type")
		return
	}
	resp := api.EmbedResponse{Model: req.Model, Embeddings: [][]float32{}}
	for _, in := range inputs {
		resp.Embeddings = append(resp.Embeddings, Embedding(in))
		resp.PromptEvalCount += len(in)/4 + 1
	}
	writeJSON(w, http.StatusOK, resp)
}

// EmbeddingDims is the length of the simulator's embeddings.
const EmbeddingDims = 64

// Embedding is a deterministic text embedding for offline use: the
// lower-cased words of text hashed into EmbeddingDims buckets with a
// hash-derived sign, L2-normalised. Texts sharing words are close.
func Embedding(text string) []float32 {
	v := make([]float64, EmbeddingDims)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		h := fnv.New64a()
		h.Write([]byte(w))
		sum := h.Sum64()
		sign := 1.0
		if sum>>63 == 1 {
			sign = -1
		}
		v[sum%EmbeddingDims] += sign
	}
	norm := 0.0
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, EmbeddingDims)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

func (s *Server) details() api.ModelDetails {
	return api.ModelDetails{Format: "reference-policy", Family: Family, Families: []string{Family}, ParameterSize: "0", QuantizationLevel: "none"}
}

func (s *Server) tags(w http.ResponseWriter, _ *http.Request) {
	var names []string
	for n := range s.policies {
		names = append(names, n)
	}
	sort.Strings(names)
	resp := api.ListResponse{Models: []api.ListModelResponse{}}
	for _, n := range names {
		resp.Models = append(resp.Models, api.ListModelResponse{
			Name: n + ":latest", Model: n + ":latest", ModifiedAt: epoch,
			Digest: s.policies[n].Fingerprint(), Details: s.details(),
		})
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) show(w http.ResponseWriter, r *http.Request) {
	var req api.ShowRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	name := req.Model
	if name == "" {
		name = req.Name
	}
	p, ok := s.policy(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", name))
		return
	}
	caps := []model.Capability{model.CapabilityCompletion, model.CapabilityTools, model.CapabilityEmbedding}
	if _, text := p.(textOnly); text {
		caps = []model.Capability{model.CapabilityCompletion, model.CapabilityEmbedding}
	}
	writeJSON(w, http.StatusOK, api.ShowResponse{
		Details: s.details(),
		ModelInfo: map[string]any{
			"general.architecture": Family,
			llm.SimulatorKey:       strings.TrimSuffix(name, ":latest"),
		},
		Capabilities: caps,
		ModifiedAt:   epoch,
	})
}

// promptTokens and replyTokens estimate token counts at four bytes a token;
// they are simulated, deterministic numbers, not a tokenizer's.
func promptTokens(req *api.ChatRequest) int {
	n := 0
	for _, m := range req.Messages {
		n += len(m.Content)
		for _, tc := range m.ToolCalls {
			n += len(tc.Function.Name) + len(tc.Function.Arguments.String())
		}
	}
	for _, t := range req.Tools {
		n += len(t.String())
	}
	return n/4 + 1
}

func replyTokens(m api.Message) int {
	n := len(m.Content)
	for _, tc := range m.ToolCalls {
		n += len(tc.Function.Name) + len(tc.Function.Arguments.String())
	}
	return n/4 + 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fingerprint hashes a value's JSON into a digest like Ollama's.
func fingerprint(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sim: fingerprint: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
