// Package agentstest gives tests the tool registry over the default
// generated dataset, from the shared on-disk cache (see kivikstore.Embedded).
package agentstest

import (
	"context"
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
