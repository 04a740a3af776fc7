package scenarios

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/assetops/assetops/fixtures"
)

// DecodeArgs reads a call's JSON arguments; anything but an object gives nil.
func DecodeArgs(raw json.RawMessage) map[string]any {
	var args map[string]any
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil
	}
	return args
}

// MatchedArgs counts the key arguments in want that the call's arguments
// carry with an equal value (see ExpectedCall.Args for what equal means).
func MatchedArgs(want, args map[string]any) int {
	n := 0
	for k, w := range want {
		if g, ok := args[k]; ok && ArgEqual(w, g) {
			n++
		}
	}
	return n
}

// ArgEqual compares an expected argument value with an actual one: strings
// ignoring case and surrounding space, or as instants when both are times;
// numbers numerically; an expected list is matched when every element of it
// is in the actual list.
func ArgEqual(want, got any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		if strings.EqualFold(strings.TrimSpace(w), strings.TrimSpace(g)) {
			return true
		}
		tw, errW := fixtures.ParseLocalTime(w)
		tg, errG := fixtures.ParseLocalTime(g)
		return errW == nil && errG == nil && tw.Equal(tg)
	case float64:
		g, ok := got.(float64)
		return ok && math.Abs(w-g) <= 1e-9*math.Max(1, math.Abs(w))
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		for _, we := range w {
			found := false
			for _, ge := range g {
				if ArgEqual(we, ge) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, we := range w {
			if !ArgEqual(we, g[k]) {
				return false
			}
		}
		return true
	}
	return want == got
}
