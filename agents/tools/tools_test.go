package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type echoIn struct {
	Name  string   `json:"name" jsonschema:"who"`
	Count int      `json:"count,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}

type echoOut struct {
	Greeting string `json:"greeting"`
}

func registry() *Registry {
	return NewRegistry(New("demo.echo", "Say hello.", func(_ context.Context, in echoIn) (echoOut, error) {
		if in.Name == "fail" {
			return echoOut{}, errors.New("cannot greet fail")
		}
		return echoOut{Greeting: strings.Repeat("hi ", max(in.Count, 1)) + in.Name}, nil
	}))
}

func TestCall(t *testing.T) {
	tests := []struct {
		name, tool, args, want, wantErr string
	}{
		{name: "ok", tool: "demo.echo", args: `{"name":"Ann"}`, want: `{"greeting":"hi Ann"}`},
		{name: "optional field", tool: "demo.echo", args: `{"name":"Ann","count":2}`, want: `{"greeting":"hi hi Ann"}`},
		{name: "unknown tool", tool: "demo.nope", args: `{}`, wantErr: `unknown tool "demo.nope" (known: demo.echo)`},
		{name: "not JSON", tool: "demo.echo", args: `{"name":`, wantErr: "invalid arguments for demo.echo: not JSON"},
		{name: "missing required", tool: "demo.echo", args: `{}`, wantErr: "missing properties"},
		{name: "empty means {}", tool: "demo.echo", args: ``, wantErr: "missing properties"},
		{name: "wrong type", tool: "demo.echo", args: `{"name":7}`, wantErr: "invalid arguments for demo.echo"},
		{name: "unknown property", tool: "demo.echo", args: `{"name":"a","nmae":"b"}`, wantErr: "additional properties"},
		{name: "not an object", tool: "demo.echo", args: `[1]`, wantErr: "invalid arguments"},
		{name: "handler error", tool: "demo.echo", args: `{"name":"fail"}`, wantErr: "cannot greet fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := registry().Call(context.Background(), tt.tool, json.RawMessage(tt.args))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("Call = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestSchemaAndLLMTools(t *testing.T) {
	r := registry()
	lt := r.LLMTools()
	if len(lt) != 1 || lt[0].Type != "function" || lt[0].Function.Name != "demo.echo" {
		t.Fatalf("LLMTools = %+v", lt)
	}
	var schema struct {
		Type       string                     `json:"type"`
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(lt[0].Function.Parameters, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Type != "object" || len(schema.Required) != 1 || schema.Required[0] != "name" || len(schema.Properties) != 3 {
		t.Errorf("schema = %+v", schema)
	}
	if !strings.Contains(string(schema.Properties["name"]), `"description":"who"`) {
		t.Errorf("name property %s lacks its description", schema.Properties["name"])
	}
	if AgentOf("iot.history") != "iot" || AgentOf("plain") != "plain" {
		t.Error("AgentOf")
	}
}
