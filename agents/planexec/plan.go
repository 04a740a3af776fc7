package planexec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/assetops/assetops/agents/trajectory"
)

// MaxPlanSteps bounds a plan; a longer one is refused and re-planned.
const MaxPlanSteps = 8

// planLine matches one field of a plan step, as the planner prompt asks
// (`#Task1: ...`) and as models vary it: without the #, with spaces, in bold,
// "Dependencies", "Expected Output".
var planLine = regexp.MustCompile(`(?i)^[\s*#>-]*(task|agent|dependency|dependencies|depends on|expected ?output)\s*(\d+)\s*[*]*\s*:\s*(?:\*+\s+)?(.*)$`)

// depRef matches one dependency word, lower-cased: "#s2", "s2" or "2".
var depRef = regexp.MustCompile(`^#?s?(\d+)$`)

// ParsePlan reads a planner's reply. agentName resolves an agent as the
// model wrote it to its canonical name, reporting false for unknown agents.
// The error says what is wrong in words the planner can act on.
func ParsePlan(text string, agentName func(string) (string, bool)) ([]trajectory.PlanStep, error) {
	byN := map[int]*trajectory.PlanStep{}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		m := planLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[2])
		if err != nil || n < 1 || n > 100 {
			return nil, fmt.Errorf("step number %q is out of range", m[2])
		}
		st := byN[n]
		if st == nil {
			st = &trajectory.PlanStep{N: n, DependsOn: []int{}}
			byN[n] = st
		}
		// Emphasis is stripped from the agent's name only: a task may
		// well start or end with * or a backtick.
		value := strings.TrimSpace(m[3])
		switch field := strings.ToLower(m[1]); {
		case field == "task":
			st.Task = value
		case field == "agent":
			st.Agent = strings.TrimSpace(strings.Trim(value, "*`"))
		case strings.HasPrefix(field, "expected"):
			st.ExpectedOutput = value
		default:
			deps, err := parseDeps(value)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", n, err)
			}
			st.DependsOn = deps
		}
	}
	if len(byN) == 0 {
		return nil, fmt.Errorf("no plan steps found: write each step as #Task<n>:, #Agent<n>:, #Dependency<n>: and #ExpectedOutput<n>: lines")
	}
	if len(byN) > MaxPlanSteps {
		return nil, fmt.Errorf("the plan has %d steps; use at most %d", len(byN), MaxPlanSteps)
	}
	var steps []trajectory.PlanStep
	for n := 1; n <= len(byN); n++ {
		st, ok := byN[n]
		if !ok {
			return nil, fmt.Errorf("steps are not numbered 1 to %d: step %d is missing", len(byN), n)
		}
		if st.Task == "" {
			return nil, fmt.Errorf("step %d has no #Task%d line", n, n)
		}
		if st.Agent == "" {
			return nil, fmt.Errorf("step %d has no #Agent%d line", n, n)
		}
		name, ok := agentName(st.Agent)
		if !ok {
			return nil, fmt.Errorf("step %d names an unknown agent %q", n, st.Agent)
		}
		st.Agent = name
		for _, d := range st.DependsOn {
			if d >= n {
				return nil, fmt.Errorf("step %d depends on step %d: a step may only depend on earlier steps", n, d)
			}
		}
		steps = append(steps, *st)
	}
	return steps, nil
}

// parseDeps reads "None", "#S1, #S2", "[#S1]", "S1 and S3", "#S1 #S2",
// "step 1", "None (independent)", "No dependencies".
func parseDeps(s string) ([]int, error) {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;[]()&.*`", r)
	})
	deps := []int{}
	if len(words) == 0 || words[0] == "none" || words[0] == "n/a" || words[0] == "-" ||
		(words[0] == "no" && len(words) > 1 && strings.HasPrefix(words[1], "dependenc")) {
		return deps, nil
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "and" {
			continue
		}
		if (w == "step" || w == "#step") && i+1 < len(words) {
			i++
			w = words[i]
		}
		m := depRef.FindStringSubmatch(w)
		d := 0
		if m != nil {
			d, _ = strconv.Atoi(m[1])
		}
		if d < 1 {
			return nil, fmt.Errorf("dependency %q is not a step reference such as #S1", strings.TrimSpace(s))
		}
		if !slices.Contains(deps, d) {
			deps = append(deps, d)
		}
	}
	slices.Sort(deps)
	return deps, nil
}

// FormatPlan writes steps in the planner's format; ParsePlan reads it back.
func FormatPlan(steps []trajectory.PlanStep) string {
	var b strings.Builder
	for i, st := range steps {
		if i > 0 {
			b.WriteString("\n")
		}
		deps := "None"
		if len(st.DependsOn) > 0 {
			var refs []string
			for _, d := range st.DependsOn {
				refs = append(refs, fmt.Sprintf("#S%d", d))
			}
			deps = strings.Join(refs, ", ")
		}
		fmt.Fprintf(&b, "## Step %d\n#Task%d: %s\n#Agent%d: %s\n#Dependency%d: %s\n#ExpectedOutput%d: %s\n",
			st.N, st.N, oneLine(st.Task), st.N, st.Agent, st.N, deps, st.N, oneLine(st.ExpectedOutput))
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
