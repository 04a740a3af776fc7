// Package fmsr provides the failure-mode and sensor-relevancy agent's tools.
package fmsr

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
)

// Store is the data the FMSR tools read.
type Store interface {
	FailureModes(ctx context.Context) ([]fixtures.FailureMode, error)
}

// Tools returns the FMSR tools over a store.
func Tools(s Store) []tools.Tool {
	t := &fmsrTools{store: s}
	return []tools.Tool{
		tools.New("fmsr.get_failure_modes",
			"Failure modes of an asset or asset class from the FMEA (\"Chiller 6\" and \"chiller\" both mean the chiller class).",
			t.getFailureModes),
	}
}

type fmsrTools struct{ store Store }

type failureModesIn struct {
	AssetName string `json:"asset_name" jsonschema:"asset or asset class, e.g. Chiller 6 or chiller"`
}

type failureModesOut struct {
	AssetName    string                 `json:"asset_name"`
	AssetClass   string                 `json:"asset_class"`
	Total        int                    `json:"total"`
	FailureModes []fixtures.FailureMode `json:"failure_modes"`
}

func (t *fmsrTools) getFailureModes(ctx context.Context, in failureModesIn) (failureModesOut, error) {
	rows, err := t.store.FailureModes(ctx)
	if err != nil {
		return failureModesOut{}, err
	}
	class := AssetClass(in.AssetName)
	out := failureModesOut{AssetName: in.AssetName, AssetClass: class, FailureModes: []fixtures.FailureMode{}}
	classes := map[string]bool{}
	for _, r := range rows {
		classes[r.AssetClass] = true
		if r.AssetClass == class {
			out.FailureModes = append(out.FailureModes, r)
		}
	}
	if len(out.FailureModes) == 0 {
		var known []string
		for c := range classes {
			known = append(known, c)
		}
		sort.Strings(known)
		return failureModesOut{}, fmt.Errorf("no failure modes for asset class %q (classes: %s)", class, strings.Join(known, ", "))
	}
	out.Total = len(out.FailureModes)
	return out, nil
}

// classWords map words in asset names to FMEA classes.
var classWords = []struct{ word, class string }{
	{"chiller", "chiller"},
	{"ahu", "ahu"},
	{"air handling", "ahu"},
}

// AssetClass normalises an asset name to its FMEA class: "Chiller 6" →
// "chiller", "CQPA AHU 2B" → "ahu"; otherwise digits are dropped, spaces
// folded and letters lowered.
func AssetClass(name string) string {
	n := strings.Join(strings.Fields(strings.ToLower(name)), " ")
	for _, cw := range classWords {
		if strings.Contains(n, cw.word) {
			return cw.class
		}
	}
	n = strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return -1
		}
		return r
	}, n)
	return strings.Join(strings.Fields(n), " ")
}
