// Package agentstest gives tests the tool registry over the default
// generated dataset, from the shared on-disk cache (see kivikstore.Embedded).
package agentstest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/assetops/assetops/agents"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures/kivikstore"
)

// Store opens the default dataset for the test.
func Store(t testing.TB) *kivikstore.Store {
	t.Helper()
	s, err := kivikstore.Default(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Registry is every tool over the default dataset.
func Registry(t testing.TB) *tools.Registry {
	t.Helper()
	return agents.Registry(Store(t))
}

// Call runs a tool that must succeed and decodes its result strictly into
// T: a field the test does not expect fails it, so tests pin the JSON an
// agent reads. args is a JSON string or a value to encode.
func Call[T any](t testing.TB, ctx context.Context, reg *tools.Registry, tool string, args any) T {
	t.Helper()
	raw := Args(t, args)
	b, err := reg.Call(ctx, tool, raw)
	if err != nil {
		t.Fatalf("%s %s: %v", tool, raw, err)
	}
	var out T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("%s %s: decode %s: %v", tool, raw, b, err)
	}
	return out
}

// Args is a tool's arguments: a JSON string as it is, any other value
// encoded.
func Args(t testing.TB, args any) json.RawMessage {
	t.Helper()
	if s, ok := args.(string); ok {
		return json.RawMessage(s)
	}
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
