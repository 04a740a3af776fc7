// Package tools is the registry of the agents' tools: each tool has a name
// "<agent>.<tool>", a description, a JSON schema inferred from its typed Go
// input, and a handler that returns a JSON-encodable result.
package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/assetops/assetops/agents/llm"
	"github.com/google/jsonschema-go/jsonschema"
)

// Tool is one callable tool.
type Tool struct {
	Name        string
	Description string
	// Schema is the JSON schema of the arguments object.
	Schema json.RawMessage

	resolved *jsonschema.Resolved
	call     func(ctx context.Context, args json.RawMessage) (any, error)
}

// Agent is the domain the tool belongs to: the part of its name before the dot.
func (t Tool) Agent() string { return AgentOf(t.Name) }

// AgentOf returns the domain of a tool name ("iot.history" → "iot").
func AgentOf(name string) string {
	agent, _, _ := strings.Cut(name, ".")
	return agent
}

// New makes a tool from a typed handler. The schema is inferred from In: a
// field is required unless tagged omitempty, and its jsonschema tag is its
// description. New panics on an In that has no schema, a programming error.
func New[In, Out any](name, description string, fn func(context.Context, In) (Out, error)) Tool {
	s, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s: %v", name, err))
	}
	// Models send "{}" for tools without arguments; say so explicitly.
	if s.Properties == nil {
		s.Properties = map[string]*jsonschema.Schema{}
	}
	resolved, err := s.Resolve(nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s: %v", name, err))
	}
	schema, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("tool %s: %v", name, err))
	}
	return Tool{
		Name:        name,
		Description: description,
		Schema:      schema,
		resolved:    resolved,
		call: func(ctx context.Context, args json.RawMessage) (any, error) {
			var in In
			dec := json.NewDecoder(bytes.NewReader(args))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return nil, &ArgsError{Tool: name, Err: err}
			}
			return fn(ctx, in)
		},
	}
}

// ErrUnknownTool is returned for a name no tool has.
var ErrUnknownTool = errors.New("unknown tool")

// ErrInternal marks a tool that failed by a bug rather than by its input.
var ErrInternal = errors.New("internal error")

// ArgsError says a tool's arguments were not valid for its schema.
type ArgsError struct {
	Tool string
	Err  error
}

func (e *ArgsError) Error() string {
	return fmt.Sprintf("invalid arguments for %s: %s", e.Tool, oneLine(e.Err.Error()))
}

func (e *ArgsError) Unwrap() error { return e.Err }

// Registry holds tools by name.
type Registry struct {
	tools map[string]Tool
}

// NewRegistry returns a registry holding the given tools.
func NewRegistry(ts ...Tool) *Registry {
	r := &Registry{tools: map[string]Tool{}}
	r.Add(ts...)
	return r
}

// Add registers tools; a duplicate name is a programming error and panics.
func (r *Registry) Add(ts ...Tool) {
	for _, t := range ts {
		if _, dup := r.tools[t.Name]; dup {
			panic("tools: duplicate tool " + t.Name)
		}
		r.tools[t.Name] = t
	}
}

// Tools returns every tool, sorted by name.
func (r *Registry) Tools() []Tool {
	out := make([]Tool, 0, len(r.tools))
	for _, t := range r.tools {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Names returns the sorted tool names.
func (r *Registry) Names() []string {
	var names []string
	for _, t := range r.Tools() {
		names = append(names, t.Name)
	}
	return names
}

// Lookup finds a tool by name.
func (r *Registry) Lookup(name string) (Tool, bool) {
	t, ok := r.tools[name]
	return t, ok
}

// Call validates args against the tool's schema, runs it and returns its
// result as JSON. Empty args mean "{}". A tool that panics returns an error
// instead: a model's input must never take the harness down.
func (r *Registry) Call(ctx context.Context, name string, args json.RawMessage) (_ json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: %w: %v", name, ErrInternal, p)
		}
	}()
	t, ok := r.tools[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownTool, name, strings.Join(r.Names(), ", "))
	}
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage("{}")
	}
	var instance any
	if err := json.Unmarshal(args, &instance); err != nil {
		return nil, &ArgsError{Tool: name, Err: fmt.Errorf("not JSON: %w", err)}
	}
	if err := t.resolved.Validate(instance); err != nil {
		return nil, &ArgsError{Tool: name, Err: err}
	}
	out, err := t.call(ctx, args)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("%s: encode result: %w", name, err)
	}
	return b, nil
}

// LLMTools offers the tools to a model in Ollama's function format.
func (r *Registry) LLMTools() []llm.Tool {
	var out []llm.Tool
	for _, t := range r.Tools() {
		out = append(out, llm.Tool{
			Type:     "function",
			Function: llm.ToolFunction{Name: t.Name, Description: t.Description, Parameters: t.Schema},
		})
	}
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Kinds of failed calls, so that an agent (or a script) can tell a call to
// fix from one to drop.
const (
	KindUnknownTool = "unknown_tool"      // no such tool: pick another
	KindArguments   = "invalid_arguments" // fix the arguments
	KindInternal    = "internal"          // a bug in the tool: report it
	KindFailed      = "failed"            // the tool refused this input or data; the reason says why
)

// ErrorResult is the JSON an agent sees for a failed call:
// {"error": reason, "kind": one of the Kind constants}.
func ErrorResult(err error) json.RawMessage {
	kind := KindFailed
	var ae *ArgsError
	switch {
	case errors.As(err, &ae):
		kind = KindArguments
	case errors.Is(err, ErrUnknownTool):
		kind = KindUnknownTool
	case errors.Is(err, ErrInternal):
		kind = KindInternal
	}
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
		Kind  string `json:"kind"`
	}{oneLine(err.Error()), kind})
	return b
}
