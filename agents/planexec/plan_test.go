package planexec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/planexec"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/google/go-cmp/cmp"
)

// testAgents are the agents the ParsePlan tests know, by name and title.
var testAgents = map[string]string{
	"iot":  "IoT Data Download",
	"wo":   "Work Order Management",
	"fmsr": "Failure Mode and Sensor Relations",
	"tsfm": "Time Series Forecasting",
}

// agentName resolves a name or title, in any case, as the orchestrator does.
func agentName(s string) (string, bool) {
	s = strings.TrimSpace(strings.Trim(s, `"'`))
	for name, title := range testAgents {
		if strings.EqualFold(s, name) || strings.EqualFold(s, title) {
			return name, true
		}
	}
	return "", false
}

// ps is a parsed plan step without an expected output.
func ps(n int, agent, task string, deps ...int) trajectory.PlanStep {
	if deps == nil {
		deps = []int{}
	}
	return trajectory.PlanStep{N: n, Task: task, Agent: agent, DependsOn: deps}
}

func withOutput(s trajectory.PlanStep, out string) trajectory.PlanStep {
	s.ExpectedOutput = out
	return s
}

// manySteps writes n independent steps in the canonical format.
func manySteps(n int) string {
	var steps []trajectory.PlanStep
	for i := 1; i <= n; i++ {
		steps = append(steps, step(i, "iot", fmt.Sprintf("task %d", i)))
	}
	return planexec.FormatPlan(steps)
}

func TestParsePlan(t *testing.T) {
	canonical := []trajectory.PlanStep{
		step(1, "iot", "List the assets at site MAIN"),
		step(2, "wo", "List the work orders of Chiller 6 in 2020"),
		step(3, "tsfm", "Forecast the supply temperature of Chiller 6", 1, 2),
	}
	tests := []struct {
		name string
		text string
		want []trajectory.PlanStep
	}{
		{
			name: "canonical FormatPlan output",
			text: planexec.FormatPlan(canonical),
			want: canonical,
		},
		{
			name: "the prompt's example format",
			text: "## Step 1\n#Task1: List the sites\n#Agent1: iot\n#Dependency1: None\n#ExpectedOutput1: the sites\n\n" +
				"## Step 2\n#Task2: List the assets\n#Agent2: iot\n#Dependency2: #S1\n#ExpectedOutput2: the assets\n",
			want: []trajectory.PlanStep{
				withOutput(ps(1, "iot", "List the sites"), "the sites"),
				withOutput(ps(2, "iot", "List the assets", 1), "the assets"),
			},
		},
		{
			name: "without #",
			text: "Task1: List the sites\nAgent1: iot\nDependency1: None\nExpectedOutput1: the sites",
			want: []trajectory.PlanStep{withOutput(ps(1, "iot", "List the sites"), "the sites")},
		},
		{
			name: "bold markers",
			text: "**#Task1:** List the sites\n**#Agent1:** iot\n**#Dependency1:** None\n" +
				"**#Task2**: List the work orders\n**#Agent2**: **wo**\n**#Dependency2**: **#S1**",
			want: []trajectory.PlanStep{ps(1, "iot", "List the sites"), ps(2, "wo", "List the work orders", 1)},
		},
		{
			name: "Dependencies and Expected Output, spaced numbers",
			text: "Task 1: List the sites\nAgent 1: iot\nDependencies 1: None\nExpected Output 1: the site names\n" +
				"Task 2 : List the assets\nAgent 2 : iot\nDependencies 2 : #S1\nExpected output 2 : asset names",
			want: []trajectory.PlanStep{
				withOutput(ps(1, "iot", "List the sites"), "the site names"),
				withOutput(ps(2, "iot", "List the assets", 1), "asset names"),
			},
		},
		{
			name: "bracketed dependency",
			text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: wo\n#Dependency2: [#S1]",
			want: []trajectory.PlanStep{ps(1, "iot", "a"), ps(2, "wo", "b", 1)},
		},
		{
			name: "dependencies without #, with a serial 'and'",
			text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: iot\n#Task3: c\n#Agent3: wo\n#Dependency3: S1, and S2",
			want: []trajectory.PlanStep{ps(1, "iot", "a"), ps(2, "iot", "b"), ps(3, "wo", "c", 1, 2)},
		},
		{
			name: "step n, bare numbers, duplicates and disorder",
			text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: iot\n#Task3: c\n#Agent3: iot\n" +
				"#Dependency2: step 1\n#Task4: d\n#Agent4: wo\n#Dependency4: 3; Step 1, #S3",
			want: []trajectory.PlanStep{ps(1, "iot", "a"), ps(2, "iot", "b", 1), ps(3, "iot", "c"), ps(4, "wo", "d", 1, 3)},
		},
		{
			name: "spellings of no dependency",
			text: "#Task1: a\n#Agent1: iot\n#Dependency1: None.\n#Task2: b\n#Agent2: iot\n#Dependency2: n/a\n" +
				"#Task3: c\n#Agent3: iot\n#Dependency3: -\n#Task4: d\n#Agent4: iot\n#Dependency4: []\n#Task5: e\n#Agent5: iot\n#Dependency5:",
			want: []trajectory.PlanStep{ps(1, "iot", "a"), ps(2, "iot", "b"), ps(3, "iot", "c"), ps(4, "iot", "d"), ps(5, "iot", "e")},
		},
		{
			name: "prose before and after",
			text: "Sure! Here is the plan to answer your question.\n\n## Step 1\n#Task1: List the sites\n#Agent1: iot\n#Dependency1: None\n\n" +
				"This plan has one step. The agent will list sites; no further task is needed.",
			want: []trajectory.PlanStep{ps(1, "iot", "List the sites")},
		},
		{
			name: "CRLF line ends",
			text: "#Task1: List the sites\r\n#Agent1: iot\r\n#Dependency1: None\r\n#Task2: List the assets\r\n#Agent2: iot\r\n#Dependency2: #S1\r\n#ExpectedOutput2: assets\r\n",
			want: []trajectory.PlanStep{ps(1, "iot", "List the sites"), withOutput(ps(2, "iot", "List the assets", 1), "assets")},
		},
		{
			name: "agent by title, quoted, in backticks, in another case",
			text: "#Task1: a\n#Agent1: IoT Data Download\n#Task2: b\n#Agent2: \"wo\"\n#Task3: c\n#Agent3: `fmsr`\n#Task4: d\n#Agent4: TSFM",
			want: []trajectory.PlanStep{ps(1, "iot", "a"), ps(2, "wo", "b"), ps(3, "fmsr", "c"), ps(4, "tsfm", "d")},
		},
		{
			name: "list markers, quotes and upper-case field names",
			text: "- TASK1: a\n- AGENT1: iot\n> task2: b\n> agent2: wo\n> DEPENDENCY2: #s1",
			want: []trajectory.PlanStep{ps(1, "iot", "a"), ps(2, "wo", "b", 1)},
		},
		{
			name: "steps written out of order",
			text: "#Task2: b\n#Agent2: wo\n#Dependency2: #S1\n#Task1: a\n#Agent1: iot",
			want: []trajectory.PlanStep{ps(1, "iot", "a"), ps(2, "wo", "b", 1)},
		},
		{
			name: "a task that contains colons and step references",
			text: "#Task1: Read sensor: supply temp, 2020-06-01T00:00:00 to 2020-06-02T00:00:00 (not #S2)\n#Agent1: iot",
			want: []trajectory.PlanStep{ps(1, "iot", "Read sensor: supply temp, 2020-06-01T00:00:00 to 2020-06-02T00:00:00 (not #S2)")},
		},
		{
			name: "depends on",
			text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: iot\n#Depends on 2: #S1",
			want: []trajectory.PlanStep{ps(1, "iot", "a"), ps(2, "iot", "b", 1)},
		},
		{
			name: "exactly MaxPlanSteps steps",
			text: manySteps(planexec.MaxPlanSteps),
			want: func() []trajectory.PlanStep {
				var out []trajectory.PlanStep
				for i := 1; i <= planexec.MaxPlanSteps; i++ {
					out = append(out, step(i, "iot", fmt.Sprintf("task %d", i)))
				}
				return out
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planexec.ParsePlan(tt.text, agentName)
			if err != nil {
				t.Fatalf("ParsePlan(%q): %v", tt.text, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePlan(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

// A plan that cannot be used is refused with an error the planner can act
// on: each message names the step and what to write.
func TestParsePlanErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // substrings of the error
	}{
		{name: "empty", text: "", want: []string{"no plan steps found", "#Task<n>:", "#Agent<n>:", "#Dependency<n>:"}},
		{name: "prose only", text: "I would first look at the sites and then at the work orders.", want: []string{"no plan steps found", "#Task<n>:"}},
		{name: "numbered list instead of fields", text: "1. List the sites (iot)\n2. List the work orders (wo)", want: []string{"no plan steps found"}},
		{name: "step 2 missing", text: "#Task1: a\n#Agent1: iot\n#Task3: c\n#Agent3: iot", want: []string{"not numbered 1 to 2", "step 2 is missing"}},
		{name: "step 1 missing", text: "#Task2: b\n#Agent2: iot", want: []string{"step 1 is missing"}},
		{name: "missing task", text: "#Task1: a\n#Agent1: iot\n#Agent2: wo\n#Dependency2: #S1", want: []string{"step 2 has no #Task2 line"}},
		{name: "empty task", text: "#Task1:\n#Agent1: iot", want: []string{"step 1 has no #Task1 line"}},
		{name: "missing agent", text: "#Task1: a\n#Dependency1: None", want: []string{"step 1 has no #Agent1 line"}},
		{name: "unknown agent", text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: Weather Agent", want: []string{"step 2", `unknown agent "Weather Agent"`}},
		{name: "the user agent is not offered here", text: "#Task1: Which chiller?\n#Agent1: user", want: []string{`unknown agent "user"`}},
		{name: "dependency on itself", text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: iot\n#Dependency2: #S2", want: []string{"step 2 depends on step 2", "only depend on earlier steps"}},
		{name: "dependency on a later step", text: "#Task1: a\n#Agent1: iot\n#Dependency1: #S2\n#Task2: b\n#Agent2: iot", want: []string{"step 1 depends on step 2", "only depend on earlier steps"}},
		{name: "dependency on a step that does not exist", text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: iot\n#Dependency2: #S7", want: []string{"step 2 depends on step 7"}},
		{name: "bad dependency text", text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: iot\n#Dependency2: the first one", want: []string{"step 2:", `dependency "the first one" is not a step reference such as #S1`}},
		{name: "dependency on step 0", text: "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: iot\n#Dependency2: #S0", want: []string{`dependency "#S0" is not a step reference`}},
		{name: "step number 0", text: "#Task0: a\n#Agent0: iot", want: []string{`step number "0" is out of range`}},
		{name: "step number too large", text: "#Task101: a\n#Agent101: iot", want: []string{`step number "101" is out of range`}},
		{name: "more than MaxPlanSteps", text: manySteps(planexec.MaxPlanSteps + 1), want: []string{fmt.Sprintf("the plan has %d steps; use at most %d", planexec.MaxPlanSteps+1, planexec.MaxPlanSteps)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planexec.ParsePlan(tt.text, agentName)
			if err == nil {
				t.Fatalf("ParsePlan(%q) = %+v, want an error", tt.text, got)
			}
			if got != nil {
				t.Errorf("ParsePlan(%q) returned steps %+v with its error", tt.text, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParsePlan(%q) error %q does not mention %q", tt.text, err, w)
				}
			}
		})
	}
}

// randomPlan is a valid plan: canonical agent names, tasks with the
// punctuation and spacing models write, dependencies on earlier steps.
func randomPlan(r *rand.Rand) []trajectory.PlanStep {
	words := []string{"List", "the", "sensors", "of", "Chiller 6", "at", "MAIN:", "from", "2020-06-01T00:00:00",
		"(kW)", "#S1", "e.g.", "a, b; c", "tonnage/hour", "50%", "'quoted'", `"double"`, "über", "x*y", "a`b"}
	names := []string{"iot", "wo", "fmsr", "tsfm"}
	var steps []trajectory.PlanStep
	for n := 1; n <= 1+r.IntN(planexec.MaxPlanSteps); n++ {
		text := func() string {
			var ws []string
			for range 1 + r.IntN(10) {
				ws = append(ws, words[r.IntN(len(words))])
			}
			// Spacing the formatter folds onto one line.
			return strings.Join(ws, []string{" ", "  ", "\n", "\t "}[r.IntN(4)])
		}
		s := trajectory.PlanStep{N: n, Task: text(), Agent: names[r.IntN(len(names))], DependsOn: []int{}}
		if r.IntN(3) > 0 {
			s.ExpectedOutput = text()
		}
		for d := 1; d < n; d++ {
			if r.IntN(3) == 0 {
				s.DependsOn = append(s.DependsOn, d)
			}
		}
		steps = append(steps, s)
	}
	return steps
}

// oneLine is the task as FormatPlan writes it.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// FormatPlan output reads back through ParsePlan as the same plan (with
// texts on one line), and formatting that again gives the same text.
func TestFormatPlanRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		plan := randomPlan(r)
		want := make([]trajectory.PlanStep, len(plan))
		for j, s := range plan {
			s.Task, s.ExpectedOutput = oneLine(s.Task), oneLine(s.ExpectedOutput)
			want[j] = s
		}
		text := planexec.FormatPlan(plan)
		got, err := planexec.ParsePlan(text, agentName)
		if err != nil {
			t.Fatalf("plan %d: ParsePlan(FormatPlan(%+v)): %v\n%s", i, plan, err, text)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("plan %d: ParsePlan(FormatPlan(p)) (-want +got):\n%s\ntext:\n%s", i, diff, text)
		}
		if again := planexec.FormatPlan(got); again != text {
			t.Fatalf("plan %d: FormatPlan is not stable:\nfirst:\n%s\nsecond:\n%s", i, text, again)
		}
	}
}

func TestFormatPlan(t *testing.T) {
	got := planexec.FormatPlan([]trajectory.PlanStep{
		{N: 1, Task: "List the sites", Agent: "iot", DependsOn: []int{}, ExpectedOutput: "site names"},
		{N: 2, Task: "List the\nassets", Agent: "iot", DependsOn: []int{1}},
		{N: 3, Task: "Compare", Agent: "wo", DependsOn: []int{1, 2}, ExpectedOutput: "a table"},
	})
	want := "## Step 1\n#Task1: List the sites\n#Agent1: iot\n#Dependency1: None\n#ExpectedOutput1: site names\n" +
		"\n## Step 2\n#Task2: List the assets\n#Agent2: iot\n#Dependency2: #S1\n#ExpectedOutput2: \n" +
		"\n## Step 3\n#Task3: Compare\n#Agent3: wo\n#Dependency3: #S1, #S2\n#ExpectedOutput3: a table\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FormatPlan (-want +got):\n%s", diff)
	}
}

// Dependency lists as models write them, and task texts with emphasis
// characters, which must survive FormatPlan and ParsePlan.
func TestParsePlanDependenciesAndEmphasis(t *testing.T) {
	known := func(s string) (string, bool) { return s, s == "iot" }
	deps := map[string][]int{
		"S1 and S3":          {1, 3},
		"#S1 and #S3":        {1, 3},
		"#S3 #S1":            {1, 3},
		"Step 1 & step 3":    {1, 3},
		"None (independent)": {},
		"No dependencies":    {},
		"**#S1**":            {1},
	}
	for text, want := range deps {
		plan := "#Task1: a\n#Agent1: iot\n#Task2: b\n#Agent2: iot\n#Task3: c\n#Agent3: iot\n#Task4: d\n#Agent4: iot\n#Dependency4: " + text
		steps, err := planexec.ParsePlan(plan, known)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if diff := cmp.Diff(want, steps[3].DependsOn); diff != "" {
			t.Errorf("%q (-want +got):\n%s", text, diff)
		}
	}
	steps := []trajectory.PlanStep{{N: 1, Task: "mean of `x`", Agent: "iot", DependsOn: []int{}, ExpectedOutput: "**bold** value*"}}
	got, err := planexec.ParsePlan(planexec.FormatPlan(steps), known)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(steps, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
