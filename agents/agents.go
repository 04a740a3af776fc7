// Package agents wires the system under test: the domain tools over a data
// store, in one registry.
package agents

import (
	"github.com/assetops/assetops/agents/fmsr"
	"github.com/assetops/assetops/agents/iot"
	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/tsfm"
	"github.com/assetops/assetops/agents/wo"
	"github.com/assetops/assetops/agents/workspace"
)

// Store is everything the domain tools read.
type Store interface {
	iot.Store
	fmsr.Store
	wo.Store
}

// Registry returns every domain tool over the store.
func Registry(s Store) *tools.Registry {
	r := tools.NewRegistry()
	r.Add(iot.Tools(s)...)
	r.Add(fmsr.Tools(s)...)
	r.Add(tsfm.Tools()...)
	r.Add(wo.Tools(s)...)
	r.Add(workspace.Tools()...)
	return r
}
