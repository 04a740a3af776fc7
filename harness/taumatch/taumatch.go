// Package taumatch scores how closely a run's trajectory follows the gold
// trajectory of its scenario, in [0, 1]. The original AssetOpsBench reports
// a τ-match but never published how it is computed; this is our definition.
//
// Each step is (agent, tool, arguments). Two steps are similar by
//
//	sim(r, g) = 0.5 + 0.5·a   when r and g call the same tool, where a is the
//	                          share of g's arguments that r carries with an
//	                          equal value (1 when g has none);
//	          = 0.25          when they call different tools of one agent;
//	          = 0             otherwise.
//
// The run's steps R (m of them) and the gold steps G (n) are aligned in order,
// each step used at most once, choosing the alignment with the largest total
// similarity S (ties: more aligned pairs). With u the run steps left without a
// partner of positive similarity,
//
//	τ = S / (n + λ·u),   λ = 0.5,
//
// and τ = 1 when both are empty. So an identical run scores 1, a run sharing
// no agent with the gold scores 0, a missing gold step costs a full step and
// an extra, irrelevant step costs half of one.
package taumatch

import (
	"encoding/json"

	"github.com/assetops/assetops/scenarios"
)

// Lambda weighs an extra run step against a missing gold step.
const Lambda = 0.5

// Step is one tool call.
type Step struct {
	Agent string
	Tool  string
	Args  json.RawMessage
}

// Score is τ for a run against the gold.
func Score(run, gold []Step) float64 {
	n, m := len(gold), len(run)
	if n == 0 && m == 0 {
		return 1
	}
	goldArgs := make([]map[string]any, n)
	for j, g := range gold {
		goldArgs[j] = scenarios.DecodeArgs(g.Args)
	}
	runArgs := make([]map[string]any, m)
	for i, r := range run {
		runArgs[i] = scenarios.DecodeArgs(r.Args)
	}
	type cell struct {
		s     float64
		pairs int
	}
	better := func(a, b cell) bool { return a.s > b.s+1e-12 || (a.s > b.s-1e-12 && a.pairs > b.pairs) }
	// dp[i][j]: best alignment of run[:i] with gold[:j].
	dp := make([][]cell, m+1)
	for i := range dp {
		dp[i] = make([]cell, n+1)
	}
	for i := 1; i <= m; i++ {
		for j := 1; j <= n; j++ {
			best := dp[i-1][j]
			if better(dp[i][j-1], best) {
				best = dp[i][j-1]
			}
			if s := sim(run[i-1], gold[j-1], runArgs[i-1], goldArgs[j-1]); s > 0 {
				if c := (cell{dp[i-1][j-1].s + s, dp[i-1][j-1].pairs + 1}); better(c, best) {
					best = c
				}
			}
			dp[i][j] = best
		}
	}
	best := dp[m][n]
	unmatched := m - best.pairs
	return best.s / (float64(n) + Lambda*float64(unmatched))
}

func sim(r, g Step, runArgs, goldArgs map[string]any) float64 {
	switch {
	case r.Tool == g.Tool:
		if len(goldArgs) == 0 {
			return 1
		}
		return 0.5 + 0.5*float64(scenarios.MatchedArgs(goldArgs, runArgs))/float64(len(goldArgs))
	case r.Agent == g.Agent:
		return 0.25
	}
	return 0
}
