// Package judge scores trajectories on AssetOpsBench's six criteria.
//
// The rules judge here is deterministic: it reads a scenario's
// machine-checkable expectations and the trajectory, nothing else.
package judge

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/scenarios"
)

// Criteria are the six criteria. Hallucinations is bad when true.
type Criteria struct {
	TaskCompletion                bool `json:"task_completion"`
	DataRetrievalAccuracy         bool `json:"data_retrieval_accuracy"`
	GeneralizedResultVerification bool `json:"generalized_result_verification"`
	AgentSequenceCorrect          bool `json:"agent_sequence_correct"`
	ClarityAndJustification       bool `json:"clarity_and_justification"`
	Hallucinations                bool `json:"hallucinations"`
}

// Pass is the original's rule: the first five true and no hallucination.
func (c Criteria) Pass() bool {
	return c.TaskCompletion && c.DataRetrievalAccuracy && c.GeneralizedResultVerification &&
		c.AgentSequenceCorrect && c.ClarityAndJustification && !c.Hallucinations
}

// Verdict is a judge's scoring of one trajectory.
type Verdict struct {
	Criteria Criteria `json:"criteria"`
	Pass     bool     `json:"pass"`
	// Reasons say, one line each, why a criterion is not met.
	Reasons []string `json:"reasons,omitempty"`
}

// ErrNoExpectations is returned for a scenario the rules judge cannot score.
var ErrNoExpectations = errors.New("scenario has no machine-checkable expectations")

// markup is protocol text that should never reach a final answer.
var markup = []string{"<tool_call>", "</tool_call>", `"tool_calls"`, "Action Input:", "<|im_start|>", "<|im_end|>"}

// Rules scores a trajectory against the scenario's expectations:
//
//   - task_completion: the run answered, and every expected tool was called
//     successfully;
//   - data_retrieval_accuracy: every expected call was made successfully with
//     its key arguments;
//   - generalized_result_verification: every expected fact is in the answer;
//   - agent_sequence_correct: the expected tools were called successfully in
//     the expected order (other calls may come between);
//   - clarity_and_justification: the answer is non-empty, free of protocol
//     markup, and every expected fact it states is backed by a tool result;
//   - hallucinations: the answer makes a claim the scenario forbids, or
//     answers a question that needs data without any successful tool call.
func Rules(s scenarios.Scenario, t *trajectory.Trajectory) (Verdict, error) {
	if s.Expect == nil {
		return Verdict{}, fmt.Errorf("rules judge, scenario %s: %w", s.ID, ErrNoExpectations)
	}
	var v Verdict
	c := &v.Criteria
	fail := func(criterion, format string, args ...any) {
		v.Reasons = append(v.Reasons, criterion+": "+fmt.Sprintf(format, args...))
	}
	answer := strings.TrimSpace(t.FinalAnswer)
	answered := t.Status == trajectory.StatusAnswered && answer != ""
	var ok []trajectory.Step
	var evidence strings.Builder
	for _, st := range t.Actions() {
		if st.OK() {
			ok = append(ok, st)
			evidence.Write(st.Observation)
			evidence.WriteByte('\n')
		}
	}

	c.TaskCompletion = answered
	if !answered {
		fail("task_completion", "no final answer (status %s)", t.Status)
	}
	c.DataRetrievalAccuracy = true
	for _, ec := range s.Expect.Calls {
		called, withArgs := false, false
		for _, st := range ok {
			if st.Tool != ec.Tool {
				continue
			}
			called = true
			if scenarios.MatchedArgs(ec.Args, scenarios.DecodeArgs(st.Args)) == len(ec.Args) {
				withArgs = true
				break
			}
		}
		if !called {
			c.TaskCompletion = false
			fail("task_completion", "%s was never called successfully", ec.Tool)
		}
		if !withArgs {
			c.DataRetrievalAccuracy = false
			fail("data_retrieval_accuracy", "no successful %s call with %s", ec.Tool, describeArgs(ec.Args))
		}
	}

	c.GeneralizedResultVerification = true
	var stated []scenarios.Fact
	for _, f := range s.Expect.Facts {
		if Contains(answer, f) {
			stated = append(stated, f)
		} else {
			c.GeneralizedResultVerification = false
			fail("generalized_result_verification", "answer lacks %s", describeFact(f))
		}
	}

	c.AgentSequenceCorrect = true
	next := 0
	for _, st := range ok {
		if next < len(s.Expect.Calls) && st.Tool == s.Expect.Calls[next].Tool {
			next++
		}
	}
	if next < len(s.Expect.Calls) {
		c.AgentSequenceCorrect = false
		var want []string
		for _, ec := range s.Expect.Calls {
			want = append(want, ec.Tool)
		}
		fail("agent_sequence_correct", "expected successful calls in order %s; %s missing or out of order",
			strings.Join(want, " → "), s.Expect.Calls[next].Tool)
	}

	c.ClarityAndJustification = answered
	if !answered {
		fail("clarity_and_justification", "no final answer")
	}
	for _, m := range markup {
		if strings.Contains(answer, m) {
			c.ClarityAndJustification = false
			fail("clarity_and_justification", "answer contains protocol markup %q", m)
		}
	}
	for _, f := range stated {
		if !Contains(evidence.String(), f) {
			c.ClarityAndJustification = false
			fail("clarity_and_justification", "%s is stated but no tool result shows it", describeFact(f))
		}
	}

	for _, claim := range s.Expect.MustNot {
		if containsFold(answer, claim) {
			c.Hallucinations = true
			fail("hallucinations", "answer claims %q", claim)
		}
	}
	if answered && len(ok) == 0 && len(s.Expect.Calls) > 0 {
		c.Hallucinations = true
		fail("hallucinations", "answered without any successful tool call")
	}
	v.Pass = c.Pass()
	return v, nil
}

// Contains reports whether text states the fact: its text, ignoring case and
// runs of space, or a number within its tolerance.
func Contains(text string, f scenarios.Fact) bool {
	if f.Number != nil {
		tol := math.Max(f.Tolerance, 1e-9*math.Max(1, math.Abs(*f.Number)))
		for _, n := range Numbers(text) {
			if math.Abs(n-*f.Number) <= tol {
				return true
			}
		}
		return false
	}
	return containsFold(text, f.Text)
}

func containsFold(text, sub string) bool {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return strings.Contains(norm(text), norm(sub))
}

var numberRE = regexp.MustCompile(`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`)

// Numbers extracts the numbers written in text: thousands separators are
// read, and a minus sign counts only where it cannot be a dash inside a date
// or a range ("2020-06-03" gives 2020, 6 and 3).
func Numbers(text string) []float64 {
	var out []float64
	for _, loc := range numberRE.FindAllStringIndex(text, -1) {
		f, err := strconv.ParseFloat(strings.ReplaceAll(text[loc[0]:loc[1]], ",", ""), 64)
		if err != nil {
			continue
		}
		if i := loc[0]; i > 0 && text[i-1] == '-' && (i == 1 || !isWordByte(text[i-2])) {
			f = -f
		}
		out = append(out, f)
	}
	return out
}

func isWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_'
}

func describeFact(f scenarios.Fact) string {
	if f.Number != nil {
		if f.Tolerance > 0 {
			return fmt.Sprintf("%s (%g ± %g)", f.Name, *f.Number, f.Tolerance)
		}
		return fmt.Sprintf("%s (%g)", f.Name, *f.Number)
	}
	return fmt.Sprintf("%s (%q)", f.Name, f.Text)
}

func describeArgs(args map[string]any) string {
	if len(args) == 0 {
		return "any arguments"
	}
	var keys []string
	for k := range args {
		keys = append(keys, k)
	}
	// Sorted for stable reasons in golden files.
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, args[k]))
	}
	return strings.Join(parts, ", ")
}
