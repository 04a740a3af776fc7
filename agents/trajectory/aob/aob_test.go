package aob

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/trajectory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runs holds the original's run records, read in place: they are not ours
// to copy into the repository.
const runs = "../../../../shared/aob/runs"

// corpus lists the run records under runs: evaluator trajectories,
// measurement records and the competition's track-1 trajectories. READMEs,
// manifests, CSVs, the scenario suite and plan files are left out.
func corpus(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(runs); err != nil {
		t.Skipf("no AssetOpsBench run records at %s: %v", runs, err)
	}
	var files []string
	err := filepath.WalkDir(runs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		slash := filepath.ToSlash(p)
		if !strings.HasSuffix(slash, ".json") || strings.Contains(slash, "/suite/") {
			return nil
		}
		if strings.Contains(slash, "/measurements/") || strings.Contains(slash, "/trajectories/") || strings.Contains(slash, "/trajectory/") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 80 {
		t.Fatalf("found %d run records under %s, want the 86 the manifest lists", len(files), runs)
	}
	return files
}

func read(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runs, rel))
	if err != nil {
		t.Skipf("run record missing: %v", err)
	}
	return b
}

func importOne(t *testing.T, rel string) *trajectory.Trajectory {
	t.Helper()
	trs, err := Import(read(t, rel), rel)
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) != 1 {
		t.Fatalf("%s: %d trajectories, want 1", rel, len(trs))
	}
	return trs[0]
}

// allSteps walks steps and the steps of their sub-runs.
func allSteps(steps []trajectory.Step) []trajectory.Step {
	var out []trajectory.Step
	for _, s := range steps {
		out = append(out, s)
		if s.Sub != nil {
			out = append(out, allSteps(s.Sub.Steps)...)
		}
	}
	return out
}

func TestImportCorpus(t *testing.T) {
	for _, p := range corpus(t) {
		rel, _ := filepath.Rel(runs, p)
		t.Run(rel, func(t *testing.T) {
			data := read(t, rel)
			trs, err := Import(data, rel)
			if err != nil {
				t.Fatal(err)
			}
			if len(trs) != 1 {
				t.Fatalf("%d trajectories, want 1", len(trs))
			}
			tr := trs[0]
			if tr.Version != trajectory.Version {
				t.Errorf("version %d, want %d", tr.Version, trajectory.Version)
			}
			if strings.TrimSpace(tr.Question) == "" {
				t.Error("no question")
			}
			if tr.Agent == "" || tr.Status == "" {
				t.Errorf("agent %q, status %q: want both", tr.Agent, tr.Status)
			}
			if bytes.Contains(data, []byte(`"tool_calls": [`+"\n")) || bytes.Contains(data, []byte(`"trajectroy_log"`)) {
				if len(tr.Actions()) == 0 {
					t.Error("the record has tool calls, the trajectory none")
				}
			}
			for i, s := range allSteps(tr.Steps) {
				if strings.Contains(s.Tool, "mcp__") {
					t.Errorf("step %d: tool %q keeps the harness prefix", i, s.Tool)
				}
				if s.Kind == "" || !json.Valid(s.Args) || !json.Valid(s.Observation) {
					t.Errorf("step %d: kind %q, args %s, observation %.80s: want a kind and JSON", i, s.Kind, s.Args, s.Observation)
				}
			}
			if _, err := Export(tr); err != nil {
				t.Errorf("re-export: %v", err)
			}
		})
	}
}

// want is what a hand-checked record must import as; zero fields are not
// checked.
type want struct {
	scenario, agent, status string
	steps                   int
	tools                   []string // of Actions(), in order
	answerPrefix            string
	errs                    map[int]string // Actions() index → error prefix
	observations            map[int]string // Actions() index → observation JSON
	usage                   *trajectory.Usage
}

func TestImportHandChecked(t *testing.T) {
	tests := []struct {
		file string
		want want
	}{
		{
			file: "benchmark/cods_track1/track1_result_iter1/trajectory/Q_1_trajectory.json",
			want: want{
				scenario: "1", agent: "plan-execute", status: "answered", steps: 1,
				tools:        []string{"sites", "assets", "assets"},
				answerPrefix: "The available IoT site is MAIN, which has 6 assets",
				errs:         map[int]string{1: "Error encountered: Execution failed while calling the Tool. Details: unknown site"},
				observations: map[int]string{0: `{"sites":["MAIN"]}`},
				usage:        &trajectory.Usage{Calls: 8, PromptTokens: 17954, CompletionTokens: 507},
			},
		},
		{
			file: "benchmark/cods_track1/track1_result_iter_by_dev/trajectory/Q_106_trajectory.json",
			want: want{
				scenario: "106", agent: "plan-execute", status: "answered", steps: 6,
				tools: []string{
					"Get Failure Modes",
					"Get Failure Mode and Sensor Relevancy Mapping",
					"Get Failure Modes", "Get Failure Mode and Sensor Relevancy Mapping",
					"Get Failure Modes",
					"Get Failure Mode and Sensor Relevancy Mapping",
					"Get Failure Modes", "Get Failure Mode and Sensor Relevancy Mapping",
				},
				answerPrefix: "The final list of failure modes of Chiller 6 that can be detected by Chiller 6 Supply Temperature are:",
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/opus-5-5/trajectories/opus-5-5_0028.json",
			want: want{
				scenario: "transformer_scenario_28", agent: "claude-agent", status: "answered", steps: 6,
				tools: []string{
					"iot.measured_sensors", "iot.latest_reading", "wo.list_workorders",
					"wo.get_schedule_calendar", "wo.generate_work_order", "wo.generate_work_order",
				},
				answerPrefix: "Yes, we're past the trigger.",
				// The evaluator dropped both outputs and recorded no error.
				errs:         map[int]string{4: "", 5: ""},
				observations: map[int]string{4: "null", 5: "null"},
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/opus-5-5/measurements/opus-5-5_0028.json",
			want: want{
				scenario: "transformer_scenario_28", agent: "claude-agent", status: "answered", steps: 6,
				tools: []string{
					"iot.measured_sensors", "iot.latest_reading", "wo.list_workorders",
					"wo.get_schedule_calendar", "wo.generate_work_order", "wo.generate_work_order",
				},
				answerPrefix: "Yes, we're past the trigger.",
				// Its error is a string, not {type, message}.
				errs: map[int]string{
					3: "",
					4: "Error executing tool generate_work_order: Client error '403 Forbidden'",
					5: "Error executing tool generate_work_order: Client error '403 Forbidden'",
				},
				usage: &trajectory.Usage{Calls: 7, PromptTokens: 192818, CompletionTokens: 2980},
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/gpt-6-1-sol/trajectories/gpt-6-1-sol_0030.json",
			want: want{
				scenario: "transformer_scenario_30", agent: "codex-agent", status: "answered", steps: 5,
				tools: []string{
					"wo.get_failure_codes", "wo.list_workorders", "wo.list_workorders",
					"iot.latest_reading", "fmsr.interpret_dga",
				},
				answerPrefix: "## Work orders: Transformer 1, MAIN",
				errs:         map[int]string{0: "", 4: "LLM unavailable"},
				observations: map[int]string{4: `{"error":"LLM unavailable"}`},
				usage:        &trajectory.Usage{Calls: 6, PromptTokens: 152587, CompletionTokens: 1073},
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/glm-5-3-low/trajectories/glm-5-3-low_0051.json",
			want: want{
				scenario: "transformer_negative_scenario_01", agent: "openai-agent", status: "answered", steps: 9,
				// No server in GLM trajectories: bare names stay.
				tools: []string{
					"sensor_stats", "sensor_stats", "sensor_stats", "sensor_stats", "sensor_stats",
					"measured_sensors", "stream_extent", "stream_extent", "stream_extent",
				},
				answerPrefix: "I can't build the baseline you're asking for",
				errs:         map[int]string{0: "no records for asset_id Transformer 1, sensor hydrogen", 5: ""},
				observations: map[int]string{0: `{"error":"no records for asset_id Transformer 1, sensor hydrogen"}`},
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/glm-5-3-low/measurements/glm-5-3-low_0036.json",
			want: want{
				scenario: "transformer_scenario_36", agent: "openai-agent", status: "step_limit", steps: 33,
				errs:  map[int]string{2: "LLM unavailable"},
				usage: &trajectory.Usage{Calls: 30, PromptTokens: 726001, CompletionTokens: 6938},
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/gpt-6-1-sol/measurements/gpt-6-1-sol_0024.json",
			want: want{
				scenario: "transformer_scenario_24", agent: "codex-agent", status: "answered", steps: 4,
				// Codex's built-in resource tools run on server "codex".
				tools:        []string{"iot.history", "codex.list_mcp_resources", "codex.list_mcp_resource_templates", "iot.history"},
				observations: map[int]string{1: `{"resources":[]}`, 2: `{"resourceTemplates":[]}`},
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer-k3/repetition-2/models/gpt-6-1-sol/measurements/gpt-6-1-sol_0028.json",
			want: want{
				scenario: "transformer_scenario_28", agent: "codex-agent", status: "answered", steps: 5,
				// The record counts no tool errors, but one create was refused.
				errs: map[int]string{3: "", 4: "Error executing tool generate_work_order: Client error '403 Forbidden'"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tr := importOne(t, tt.file)
			w := tt.want
			if tr.ScenarioID != w.scenario || tr.Agent != w.agent || tr.Status != w.status || len(tr.Steps) != w.steps {
				t.Errorf("scenario %q, agent %q, status %q, %d steps; want %q, %q, %q, %d",
					tr.ScenarioID, tr.Agent, tr.Status, len(tr.Steps), w.scenario, w.agent, w.status, w.steps)
			}
			acts := tr.Actions()
			if w.tools != nil {
				var tools []string
				for _, s := range acts {
					tools = append(tools, s.Tool)
				}
				if diff := cmp.Diff(w.tools, tools); diff != "" {
					t.Errorf("tools (-want +got):\n%s", diff)
				}
			}
			if !strings.HasPrefix(tr.FinalAnswer, w.answerPrefix) {
				t.Errorf("answer %.80q, want it to start %q", tr.FinalAnswer, w.answerPrefix)
			}
			for i, prefix := range w.errs {
				if i >= len(acts) {
					t.Errorf("no action %d", i)
					continue
				}
				got := acts[i].Error
				if prefix == "" && got != "" || !strings.HasPrefix(got, prefix) {
					t.Errorf("action %d error %q, want %q…", i, got, prefix)
				}
			}
			for i, obs := range w.observations {
				if i >= len(acts) {
					t.Errorf("no action %d", i)
					continue
				}
				if got := string(acts[i].Observation); got != obs {
					t.Errorf("action %d observation %.120s, want %s", i, got, obs)
				}
			}
			if w.usage != nil && tr.Usage != *w.usage {
				t.Errorf("usage %+v, want %+v", tr.Usage, *w.usage)
			}
		})
	}
}

// TestImportPlanExecute checks how an AgentHive history maps to agent steps,
// their sub-runs and the plan.
func TestImportPlanExecute(t *testing.T) {
	tr := importOne(t, "benchmark/cods_track1/track1_result_iter1/trajectory/Q_1_trajectory.json")
	if tr.Question != "What IoT sites are available?" {
		t.Errorf("question %q", tr.Question)
	}
	wantPlan := []trajectory.Plan{{Steps: []trajectory.PlanStep{{N: 1, Task: "List all available IoT sites", Agent: "iot"}}}}
	if diff := cmp.Diff(wantPlan, tr.Plans); diff != "" {
		t.Errorf("plans (-want +got):\n%s", diff)
	}
	st := tr.Steps[0]
	if st.Kind != trajectory.KindAgent || st.Agent != "iot" || st.Tool != "IoT Data Download" || st.PlanStep != 1 ||
		string(st.Args) != `{"request":"List all available IoT sites"}` {
		t.Errorf("step: kind %q agent %q tool %q plan step %d args %s", st.Kind, st.Agent, st.Tool, st.PlanStep, st.Args)
	}
	sub := st.Sub
	if sub == nil {
		t.Fatal("no sub-run")
	}
	if sub.Agent != "iot" || sub.Status != trajectory.StatusAnswered || len(sub.Reviews) != 1 || sub.Reviews[0].Status != "accomplished" {
		t.Errorf("sub-run: agent %q status %q reviews %+v", sub.Agent, sub.Status, sub.Reviews)
	}
	for i, s := range sub.Steps {
		if s.PlanStep != 1 || s.Agent != "iot" || s.Kind != trajectory.KindTool {
			t.Errorf("sub-step %d: plan step %d, agent %q, kind %q", i, s.PlanStep, s.Agent, s.Kind)
		}
	}
	// Exported, the calls keep their plan step.
	b, err := Export(tr)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Import(b, "export")
	if err != nil {
		t.Fatal(err)
	}
	if got := back[0].Steps; len(got) != 3 || got[2].PlanStep != 1 || got[2].Tool != "assets" || got[2].Agent != "iot" {
		t.Errorf("re-imported steps %+v", got)
	}
	// The track-1 runs leak "Action Input 2:" into the tool input.
	if got := string(sub.Steps[1].Args); got != `"site_name=MAIN  ## Step 5: Process the observation"` {
		t.Errorf("second call's args %s", got)
	}
	if got := string(sub.Steps[2].Args); got != `"site_name=MAIN"` {
		t.Errorf("third call's args %s", got)
	}
}

// TestMeasurementQuestion: an ungraded record keeps its question only in the
// failed command line; it must be the suite's scenario text.
func TestMeasurementQuestion(t *testing.T) {
	var suite []struct{ ID, Text string }
	if err := json.Unmarshal(read(t, "benchmarks/runs/2026-09-30-transformer/suite/scenarios.json"), &suite); err != nil {
		t.Fatal(err)
	}
	var text string
	for _, s := range suite {
		if s.ID == "transformer_scenario_36" {
			text = s.Text
		}
	}
	tr := importOne(t, "benchmarks/runs/2026-09-30-transformer/models/glm-5-3-low/measurements/glm-5-3-low_0036.json")
	if text == "" || tr.Question != text {
		t.Errorf("question %.80q, want the suite's %.80q", tr.Question, text)
	}
	if tr.Error != "MaxTurnsExceeded: Max turns (30) exceeded" {
		t.Errorf("error %q", tr.Error)
	}
}

// TestTrajectoryMatchesMeasurement: the evaluator builds each trajectory from
// the latest attempt's measurement, so the two import to the same calls,
// whatever wrappers, escapes and key order each harness wrote.
func TestTrajectoryMatchesMeasurement(t *testing.T) {
	pairs := 0
	for _, p := range corpus(t) {
		if !strings.Contains(filepath.ToSlash(p), "/trajectories/") {
			continue
		}
		rel, _ := filepath.Rel(runs, p)
		run := strings.TrimSuffix(filepath.Base(p), ".json")
		attempts, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(p)), "measurements", run+"*.json"))
		var latest *Measurement
		for _, a := range attempts {
			b, _ := os.ReadFile(a)
			m, err := ReadMeasurement(b, a)
			if err != nil {
				t.Fatal(err)
			}
			if latest == nil || m.Attempt > latest.Attempt {
				latest = m
			}
		}
		if latest == nil {
			continue
		}
		pairs++
		t.Run(rel, func(t *testing.T) {
			tr, mt := importOne(t, rel), latest.Trajectory
			if tr.Question != mt.Question || tr.FinalAnswer != mt.FinalAnswer || tr.ScenarioID != mt.ScenarioID || tr.Agent != mt.Agent {
				t.Errorf("question, answer, scenario or runner differ")
			}
			if len(tr.Steps) != len(mt.Steps) {
				t.Fatalf("%d steps, the measurement %d", len(tr.Steps), len(mt.Steps))
			}
			// The trajectory lists calls as the model made them, the
			// measurement as they ended, so parallel calls may swap.
			used := make([]bool, len(mt.Steps))
			for i, s := range tr.Steps {
				found := false
				for j, m := range mt.Steps {
					sameTool := s.Tool == m.Tool || strings.HasSuffix(m.Tool, "."+s.Tool)
					sameObs := string(s.Observation) == "null" || string(s.Observation) == string(m.Observation) // null: dropped by the evaluator
					if used[j] || !sameTool || string(s.Args) != string(m.Args) || !sameObs {
						continue
					}
					used[j], found = true, true
					if string(s.Observation) != "null" && (s.Error == "") != (m.Error == "") {
						t.Errorf("step %d: error %q, the measurement %q", i, s.Error, m.Error)
					}
					break
				}
				if !found {
					t.Errorf("step %d (%s %s): no such call in the measurement", i, s.Tool, s.Args)
				}
			}
		})
	}
	if pairs < 30 {
		t.Errorf("%d trajectories with measurements, want the 35 saved", pairs)
	}
}

func ptr[T any](v T) *T { return &v }

func TestReadMeasurement(t *testing.T) {
	tests := []struct {
		file string
		want Measurement
	}{
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/glm-5-3-low/measurements/glm-5-3-low_0036.json",
			want: Measurement{
				RunID: "glm-5-3-low_0036", ScenarioID: "transformer_scenario_36", Attempt: 1,
				Model: "zai/glm-5.3", Runner: "openai-agent", Status: "failed",
				AgentError:    "MaxTurnsExceeded: Max turns (30) exceeded",
				ToolCallCount: ptr(33), ToolErrors: ptr(26), RepeatedIdenticalCalls: ptr(25),
				TurnLimitHit: ptr(true), ModelTurns: ptr(30),
				DatabaseWritesAttempted: ptr(0), DatabaseWritesSucceeded: ptr(0),
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/glm-5-3-low/measurements/glm-5-3-low_0036.attempt-2.json",
			want: Measurement{
				RunID: "glm-5-3-low_0036", ScenarioID: "transformer_scenario_36", Attempt: 2,
				Model: "zai/glm-5.3", Runner: "openai-agent", Status: "completed",
				ToolCallCount: ptr(21), ToolErrors: ptr(12), RepeatedIdenticalCalls: ptr(8),
				TurnLimitHit: nil, ModelTurns: ptr(18),
				DatabaseWritesAttempted: ptr(3), DatabaseWritesSucceeded: ptr(0),
				Judge: &Judgement{Passed: ptr(false), Score: ptr(0.4), Criteria: Criteria{
					TaskCompletion: ptr(false), DataRetrievalAccuracy: ptr(true), GeneralizedResultVerification: ptr(false),
					AgentSequenceCorrect: ptr(false), ClarityAndJustification: ptr(true), Hallucinations: ptr(false),
				}},
			},
		},
		{
			file: "benchmarks/runs/2026-09-30-transformer/models/opus-5-5/measurements/opus-5-5_0028.json",
			want: Measurement{
				RunID: "opus-5-5_0028", ScenarioID: "transformer_scenario_28", Attempt: 1,
				Model: "claude-opus-5-5", Runner: "claude-agent", Status: "completed",
				ToolCallCount: ptr(6), ToolErrors: ptr(2), RepeatedIdenticalCalls: ptr(0),
				TurnLimitHit: ptr(false), TerminationReason: "end_turn", ModelTurns: ptr(7),
				DatabaseWritesAttempted: ptr(2), DatabaseWritesSucceeded: ptr(0),
				Judge: &Judgement{Passed: ptr(false), Score: ptr(0.8), Criteria: Criteria{
					TaskCompletion: ptr(false), DataRetrievalAccuracy: ptr(true), GeneralizedResultVerification: ptr(true),
					AgentSequenceCorrect: ptr(true), ClarityAndJustification: ptr(true), Hallucinations: ptr(false),
				}},
			},
		},
		{
			// Codex leaves turn_limit_hit, termination_reason and model_turns null.
			file: "benchmarks/runs/2026-09-30-transformer/models/gpt-6-1-sol/measurements/gpt-6-1-sol_0030.json",
			want: Measurement{
				RunID: "gpt-6-1-sol_0030", ScenarioID: "transformer_scenario_30", Attempt: 1,
				Model: "gpt-6.1-sol", Runner: "codex-agent", Status: "completed",
				ToolCallCount: ptr(5), ToolErrors: ptr(1), RepeatedIdenticalCalls: ptr(0),
				DatabaseWritesAttempted: ptr(0), DatabaseWritesSucceeded: ptr(0),
				Judge: &Judgement{Passed: ptr(false), Score: ptr(0.8), Criteria: Criteria{
					TaskCompletion: ptr(true), DataRetrievalAccuracy: ptr(true), GeneralizedResultVerification: ptr(true),
					AgentSequenceCorrect: ptr(false), ClarityAndJustification: ptr(true), Hallucinations: ptr(false),
				}},
			},
		},
	}
	ignore := cmp.Options{
		cmpopts.IgnoreFields(Measurement{}, "Trajectory", "Error"),
		cmpopts.IgnoreFields(Judgement{}, "Rationale"),
		cmpopts.IgnoreFields(Criteria{}, "Suggestions"),
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := ReadMeasurement(read(t, tt.file), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, m, ignore); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if m.Judge != nil && (m.Judge.Rationale == "" || m.Judge.Criteria.Suggestions == "") {
				t.Error("no rationale or suggestions")
			}
		})
	}
}

// TestReadMeasurementManifest reads every measurement record and checks its
// counts against the table in the corpus's MANIFEST.md (section 3), which was
// compiled from the records independently.
func TestReadMeasurementManifest(t *testing.T) {
	type row struct {
		calls, errs, repeated int
		turnLimit             *bool
		status                string
	}
	rows := map[string]row{}
	f, err := os.Open(filepath.Join(runs, "MANIFEST.md"))
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^\| \d+ \| (\S+/measurements/\S+\.json) \|`)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !line.MatchString(sc.Text()) {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(sc.Text(), "| "), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		num := func(i int) int {
			n, err := strconv.Atoi(cells[i])
			if err != nil {
				t.Fatalf("manifest row %s: column %d: %v", cells[1], i, err)
			}
			return n
		}
		r := row{calls: num(15), errs: num(16), repeated: num(17), status: cells[6]}
		switch cells[18] {
		case "T":
			r.turnLimit = ptr(true)
		case "F":
			r.turnLimit = ptr(false)
		}
		rows[cells[1]] = r
	}
	if len(rows) != 45 {
		t.Fatalf("read %d rows from the manifest, want 45", len(rows))
	}
	seen := 0
	for _, p := range corpus(t) {
		rel, _ := filepath.Rel(runs, p)
		rel = filepath.ToSlash(rel)
		if !strings.Contains(rel, "/measurements/") {
			continue
		}
		seen++
		t.Run(rel, func(t *testing.T) {
			m, err := ReadMeasurement(read(t, rel), rel)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := rows[rel]
			if !ok {
				t.Fatal("not in the manifest")
			}
			got := row{turnLimit: m.TurnLimitHit, status: m.Status}
			for _, c := range []struct {
				dst *int
				src *int
			}{{&got.calls, m.ToolCallCount}, {&got.errs, m.ToolErrors}, {&got.repeated, m.RepeatedIdenticalCalls}} {
				if c.src == nil {
					t.Fatal("a count is null")
				}
				*c.dst = *c.src
			}
			if diff := cmp.Diff(w, got, cmp.AllowUnexported(row{})); diff != "" {
				t.Errorf("(-manifest +record):\n%s", diff)
			}
			if len(m.Trajectory.Steps) != got.calls {
				t.Errorf("%d steps, %d tool calls counted", len(m.Trajectory.Steps), got.calls)
			}
			if (m.Judge == nil) != (m.Status == "failed") {
				t.Errorf("status %q but judged %v", m.Status, m.Judge != nil)
			}
		})
	}
	if seen != len(rows) {
		t.Errorf("%d measurement records on disk, %d in the manifest", seen, len(rows))
	}
}

// TestOutputShapes: the same result, as each harness wraps it, imports to
// the same step.
func TestOutputShapes(t *testing.T) {
	const result = `{"asset_id":"Transformer 1","note":"Öl — 5 ppm","values":[2850,86400.0]}`
	call := func(output string) string {
		return `{"run_id":"r","scenario_id":"s","runner":"x","question":"q","answer":"a","trajectory":{"turns":[{"text":"","tool_calls":[{"name":"mcp__iot__latest_reading","input":{"site_name":"MAIN"},"output":` + output + `}]}]}}`
	}
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	pretty := "{\n  \"values\": [2850, 86400.0],\n  \"note\": \"\\u00d6l \\u2014 5 ppm\",\n  \"asset_id\": \"Transformer 1\"\n}"
	tests := []struct{ name, output string }{
		{"object", result},
		{"claude string", quote(`{"result":` + result + `}`)},
		{"escaped claude string", quote(`{"result":{"asset_id":"Transformer 1","note":"\u00d6l \u2014 5 ppm","values":[2850,86400.0]}}`)},
		{"codex", `{"content":[{"type":"text","text":` + quote(pretty) + `}],"structured_content":{"result":` + result + `}}`},
		{"codex without structured content", `{"content":[{"type":"text","text":` + quote(pretty) + `}],"structured_content":null}`},
		{"openai agents", `{"meta":null,"content":[{"type":"text","text":` + quote(pretty) + `,"annotations":null,"meta":null}],"structuredContent":{"result":` + result + `},"isError":false}`},
		{"text block", `{"type":"text","text":` + quote(pretty) + `}`},
		{"string holding JSON", quote(pretty)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trs, err := Import([]byte(call(tt.output)), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			st := trs[0].Steps[0]
			want := trajectory.Step{
				Kind: trajectory.KindTool, Agent: "iot", Tool: "iot.latest_reading",
				Args: json.RawMessage(`{"site_name":"MAIN"}`), Observation: json.RawMessage(result),
			}
			if diff := cmp.Diff(want, st); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutputErrors(t *testing.T) {
	tests := []struct {
		name, call string
		wantErr    string
		wantObs    string
	}{
		{
			name:    "recorded error object",
			call:    `"output":"{\"result\":{\"error\":\"LLM unavailable\"}}","error":{"type":"ToolResultError","message":"LLM unavailable"}`,
			wantErr: "LLM unavailable", wantObs: `{"error":"LLM unavailable"}`,
		},
		{
			name:    "mcp isError",
			call:    `"output":{"content":[{"type":"text","text":"Error executing tool generate_work_order: 403 Forbidden\nmore"}],"structuredContent":null,"isError":true},"error":{"type":"ToolError","message":"MCP reported an error"}`,
			wantErr: "MCP reported an error", wantObs: `"Error executing tool generate_work_order: 403 Forbidden\nmore"`,
		},
		{
			name:    "isError without a recorded error",
			call:    `"output":{"content":[{"type":"text","text":"boom"}],"isError":true}`,
			wantErr: "boom", wantObs: `"boom"`,
		},
		{
			name:    "error string, output dropped",
			call:    `"output":null,"error":"Error executing tool x: refused"`,
			wantErr: "Error executing tool x: refused", wantObs: `{"error":"Error executing tool x: refused"}`,
		},
		{
			name:    "text that is not JSON",
			call:    `"output":"plain words","error":null`,
			wantErr: "", wantObs: `"plain words"`,
		},
		{
			name:    "string arguments holding JSON",
			call:    `"arguments":"{\"b\":1,\"a\":2}","output":{"ok":true}`,
			wantErr: "", wantObs: `{"ok":true}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"run_id":"r","scenario_id":"s","metrics":{"tool_calls":[{"name":"t","server":"wo",` + tt.call + `}]},"grading":null}`
			trs, err := Import([]byte(doc), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			st := trs[0].Steps[0]
			if st.Error != tt.wantErr || string(st.Observation) != tt.wantObs {
				t.Errorf("error %q observation %s; want %q %s", st.Error, st.Observation, tt.wantErr, tt.wantObs)
			}
			if st.Tool != "wo.t" || st.Agent != "wo" {
				t.Errorf("tool %q agent %q, want wo.t and wo", st.Tool, st.Agent)
			}
			if strings.HasPrefix(tt.name, "string arguments") && string(st.Args) != `{"a":2,"b":1}` {
				t.Errorf("args %s", st.Args)
			}
		})
	}
}

func TestToolName(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"mcp__iot__latest_reading", "iot.latest_reading"},
		{"mcp__utilities__current_date_time", "utilities.current_date_time"},
		{"mcp__codex__list_mcp_resources", "codex.list_mcp_resources"},
		{"mcp__my_server__tool__with__dunders", "my_server.tool__with__dunders"},
		{"latest_reading", "latest_reading"},
		{"iot.sites", "iot.sites"},
		{"Get Failure Modes", "Get Failure Modes"},
		{" mcp__wo__list_workorders ", "wo.list_workorders"},
		{"mcp__iot", "iot"},
		{"mcp____mcp__x__y", "x.y"},
		{"mcp__", ""},
	}
	for _, tt := range tests {
		if got := ToolName(tt.raw); got != tt.want {
			t.Errorf("ToolName(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestAgentName(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"IoT Data Download", "iot"},
		{"IoTAgent", "iot"},
		{"Failure Mode and Sensor Relevancy Expert for Industrial Asset", "fmsr"},
		{"FMSRAgent", "fmsr"},
		{"Time Series Analytics and Forecasting", "tsfm"},
		{"TSFMAgent", "tsfm"},
		{"WorkOrderAgent", "wo"},
		{"Work Order Management", "wo"},
		{"Summarization Agent", "summarize"},
		{"Pilot Planner", "pilot_planner"},
	}
	for _, tt := range tests {
		if got := AgentName(tt.raw); got != tt.want {
			t.Errorf("AgentName(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// handBuilt is a tool-as-agent run with nested domain-agent runs, a
// clarifying question, a failed call, an invalid action and non-ASCII text
// (and HTML-significant characters, which must stay unescaped).
func handBuilt() *trajectory.Trajectory {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	return &trajectory.Trajectory{
		Version:    trajectory.Version,
		ScenarioID: "rt-01",
		Question:   "Welche Sensoren hat Kühler 6, und welche Fehlerarten? 温度 <°C>",
		Model:      "granite4:tiny-h",
		Agent:      trajectory.StyleToolAsAgent,
		Protocol:   trajectory.ProtocolText,
		Steps: []trajectory.Step{
			{
				Kind: trajectory.KindAgent, Agent: "iot", Tool: "iot", Thought: "Frag den IoT-Agenten.",
				Args: raw(`{"request":"Sensoren von Kühler 6"}`), Observation: raw(`"Supply Temperature °C, Power <kW>"`),
				Sub: &trajectory.Trajectory{
					Version: trajectory.Version, Question: "Sensoren von Kühler 6", Agent: "iot", Status: trajectory.StatusAnswered,
					FinalAnswer: "Supply Temperature °C, Power <kW>",
					Steps: []trajectory.Step{
						{Kind: trajectory.KindTool, Agent: "iot", Tool: "iot.sites", Thought: "Erst die Standorte.", Args: raw(`{}`), Observation: raw(`{"sites":["MAIN"]}`)},
						{Kind: trajectory.KindTool, Agent: "iot", Tool: "iot.sensors", Args: raw(`{"site_name":"MAIN","asset_id":"Chiller 6"}`),
							Observation: raw(`{"sensors":["Supply Temperature °C","Power <kW>"]}`)},
					},
				},
			},
			{
				Kind: trajectory.KindAsk, Agent: "user", Tool: trajectory.AskTool, Thought: "Which site?",
				Args: raw(`{"question":"Meinen Sie MAIN — oder Süd?"}`), Observation: raw(`{"answer":"Ja, MAIN"}`),
			},
			{
				Kind: trajectory.KindTool, Agent: "fmsr", Tool: "fmsr.failure_modes", Thought: "Fehlerarten holen.",
				Args:        raw(`{"asset_class":"Kühler"}`),
				Observation: raw(`{"error":"unknown asset class \"Kühler\"","kind":"failed"}`),
				Error:       `unknown asset class "Kühler"`,
			},
			{
				Kind: trajectory.KindAgent, Agent: "wo", Tool: "wo", Thought: "Delegate to WO.",
				Args: raw(`{"request":"open work orders"}`), Observation: raw(`"none"`),
				Sub: &trajectory.Trajectory{
					Version: trajectory.Version, Agent: "wo", Status: trajectory.StatusAnswered, FinalAnswer: "none",
					Steps: []trajectory.Step{
						{
							Kind: trajectory.KindAgent, Agent: "tsfm", Tool: "tsfm", Thought: "Nested: ask TSFM first.",
							Args: raw(`{"request":"models"}`), Observation: raw(`"ttm"`),
							Sub: &trajectory.Trajectory{
								Version: trajectory.Version, Agent: "tsfm", Status: trajectory.StatusAnswered, FinalAnswer: "ttm",
								Steps: []trajectory.Step{
									{Kind: trajectory.KindTool, Agent: "tsfm", Tool: "tsfm.models", Args: raw(`{}`), Observation: raw(`[{"id":"ttm_r1"}]`)},
								},
							},
						},
						{Kind: trajectory.KindTool, Agent: "wo", Tool: "wo.list_workorders", Thought: "Now the orders.",
							Args: raw(`{"site_id":"MAIN","status":"OPEN"}`), Observation: raw(`{"total":0,"work_orders":[]}`)},
					},
				},
			},
			// A domain agent that answered without calling a tool leaves no
			// action, and its thought does not lead the next one.
			{
				Kind: trajectory.KindAgent, Agent: "fmsr", Tool: "fmsr", Thought: "Ask FMSR; it needs no tool.",
				Args: raw(`{"request":"x"}`), Observation: raw(`"y"`),
				Sub: &trajectory.Trajectory{Version: trajectory.Version, Agent: "fmsr", Status: trajectory.StatusAnswered, FinalAnswer: "y", Steps: []trajectory.Step{}},
			},
			{
				Kind: trajectory.KindInvalid, Agent: "iot", Tool: "iot.nope", Thought: "Try a tool that does not exist.",
				Args:        raw(`"not json ("`),
				Observation: raw(`{"error":"unknown tool iot.nope","kind":"unknown_tool"}`),
				Error:       "unknown tool iot.nope",
			},
		},
		Reviews:     []trajectory.Review{{Status: "accomplished", Reasoning: "Alle Sensoren genannt.", Suggestions: "None"}},
		FinalAnswer: "Kühler 6 hat „Supply Temperature °C“ und „Power <kW>“; Fehlerarten: unbekannt.",
		Status:      trajectory.StatusAnswered,
		Usage:       trajectory.Usage{Calls: 7, PromptTokens: 5120, CompletionTokens: 410},
	}
}

func TestRoundTrip(t *testing.T) {
	b, err := Export(handBuilt())
	if err != nil {
		t.Fatal(err)
	}
	trs, err := Import(b, "export")
	if err != nil {
		t.Fatal(err)
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	want := []*trajectory.Trajectory{{
		Version:    trajectory.Version,
		ScenarioID: "rt-01",
		Question:   "Welche Sensoren hat Kühler 6, und welche Fehlerarten? 温度 <°C>",
		Model:      "granite4:tiny-h",
		Agent:      trajectory.StyleToolAsAgent,
		Protocol:   trajectory.ProtocolText,
		Steps: []trajectory.Step{
			{Kind: "tool", Agent: "iot", Tool: "iot.sites", Thought: "Frag den IoT-Agenten.\nErst die Standorte.", Args: raw(`{}`), Observation: raw(`{"sites":["MAIN"]}`)},
			{Kind: "tool", Agent: "iot", Tool: "iot.sensors", Args: raw(`{"asset_id":"Chiller 6","site_name":"MAIN"}`),
				Observation: raw(`{"sensors":["Supply Temperature °C","Power <kW>"]}`)},
			{Kind: "ask_user", Agent: "user", Tool: "ask_user", Thought: "Which site?", Args: raw(`{"question":"Meinen Sie MAIN — oder Süd?"}`), Observation: raw(`{"answer":"Ja, MAIN"}`)},
			{Kind: "tool", Agent: "fmsr", Tool: "fmsr.failure_modes", Thought: "Fehlerarten holen.", Args: raw(`{"asset_class":"Kühler"}`),
				Observation: raw(`{"error":"unknown asset class \"Kühler\"","kind":"failed"}`), Error: `unknown asset class "Kühler"`},
			{Kind: "tool", Agent: "tsfm", Tool: "tsfm.models", Thought: "Delegate to WO.\nNested: ask TSFM first.", Args: raw(`{}`), Observation: raw(`[{"id":"ttm_r1"}]`)},
			{Kind: "tool", Agent: "wo", Tool: "wo.list_workorders", Thought: "Now the orders.", Args: raw(`{"site_id":"MAIN","status":"OPEN"}`),
				Observation: raw(`{"total":0,"work_orders":[]}`)},
			{Kind: "invalid", Agent: "iot", Tool: "iot.nope", Thought: "Try a tool that does not exist.", Args: raw(`"not json ("`),
				Observation: raw(`{"error":"unknown tool iot.nope","kind":"unknown_tool"}`), Error: "unknown tool iot.nope"},
		},
		Reviews:     []trajectory.Review{{Status: "accomplished", Reasoning: "Alle Sensoren genannt.", Suggestions: "None"}},
		FinalAnswer: "Kühler 6 hat „Supply Temperature °C“ und „Power <kW>“; Fehlerarten: unbekannt.",
		Status:      trajectory.StatusAnswered,
		Usage:       trajectory.Usage{Calls: 7, PromptTokens: 5120, CompletionTokens: 410},
	}}
	if diff := cmp.Diff(want, trs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The flattened calls are the ones the judges see in the original run.
	var gotTools, wantTools []string
	for _, s := range handBuilt().Actions() {
		wantTools = append(wantTools, s.Tool)
	}
	for _, s := range trs[0].Actions() {
		gotTools = append(gotTools, s.Tool)
	}
	if diff := cmp.Diff(wantTools, gotTools); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	again, err := Export(trs[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(b), string(again)); diff != "" {
		t.Errorf("second export differs (-first +second):\n%s", diff)
	}
}

func TestExportGolden(t *testing.T) {
	got, err := Export(handBuilt())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "export.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestExportErrors(t *testing.T) {
	if _, err := Export(nil); err == nil {
		t.Error("nil trajectory: no error")
	}
	bad := &trajectory.Trajectory{Steps: []trajectory.Step{{Kind: "tool", Tool: "x", Args: json.RawMessage(`{`)}}}
	if _, err := Export(bad); err == nil || !strings.Contains(err.Error(), "args") {
		t.Errorf("broken args: error %v", err)
	}
	loop := &trajectory.Trajectory{}
	loop.Steps = []trajectory.Step{{Kind: trajectory.KindAgent, Sub: loop}}
	if _, err := Export(loop); err == nil {
		t.Error("a run that contains itself: no error")
	}
}

func TestImportMalformed(t *testing.T) {
	real := read(t, "benchmarks/runs/2026-09-30-transformer/models/opus-5-5/trajectories/opus-5-5_0001.json")
	meas := read(t, "benchmarks/runs/2026-09-30-transformer/models/opus-5-5/measurements/opus-5-5_0001.json")
	tests := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"blank", " \n\t"},
		{"open bracket", "["},
		{"empty list", "[]"},
		{"number", "42"},
		{"string", `"task"`},
		{"null", "null"},
		{"trajectory is a number", `{"trajectory": 5}`},
		{"unknown object", `{"hello": "world"}`},
		{"list of numbers", `[1, 2]`},
		{"truncated trajectory", string(real[:len(real)/2])},
		{"truncated measurement", string(meas[:len(meas)/3])},
		{"turns are a string", `{"run_id":"r","trajectory":"turns"}`},
		{"tool calls are an object", `{"run_id":"r","metrics":{"tool_calls":{}}}`},
		{"count is a fraction", `{"run_id":"r","metrics":{"tool_errors":1.5}}`},
		{"task is an object list", `{"task":"q","trajectory":[5]}`},
		{"tokens are text", `{"run_id":"r","trajectory":{"turns":[{"input_tokens":"many"}]}}`},
		{"trailing data", `{"task":"q","trajectory":[]} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trs, err := Import([]byte(tt.data), "bad.json")
			if err == nil {
				t.Fatalf("no error; got %d trajectories", len(trs))
			}
			if !strings.HasPrefix(err.Error(), "import bad.json: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := ReadMeasurement([]byte("[1]"), "m.json"); err == nil || !strings.HasPrefix(err.Error(), "read measurement m.json: ") {
		t.Errorf("ReadMeasurement of a list: error %v", err)
	}
}

// A string that merely looks like JSON stays a string.
func TestArgsThatLookLikeJSON(t *testing.T) {
	got, err := args(json.RawMessage(`"{\"a\":"`))
	if err != nil || string(got) != `"{\"a\":"` {
		t.Errorf("args = %s, %v; want the string kept", got, err)
	}
}

func TestImportList(t *testing.T) {
	doc := `[{"task":"q1","trajectory":[{"thought":"t","action":"Tool Name: iot.sites , Tool Parameter: {}","observation":"{\"sites\":[\"MAIN\"]}"},{"thought":"which?","action":"Tool Name: Agent-Ask , Tool Parameter: Action Input 2: Which site?","observation":"MAIN"},{"thought":"","action":"Tool Name: Finish , Tool Parameter: MAIN","observation":""}]},
	{"id":7,"text":"q2","trajectory":[{"task_number":1,"task_description":"d","agent_name":"IoTAgent","response":"r","logs":"not a log"}]}]`
	trs, err := Import([]byte(doc), "list")
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) != 2 {
		t.Fatalf("%d trajectories, want 2", len(trs))
	}
	if a := trs[0]; a.Agent != "react" || a.FinalAnswer != "MAIN" || a.Status != "answered" || len(a.Steps) != 2 || a.Steps[0].Tool != "iot.sites" {
		t.Errorf("ReActXen item: %+v", a)
	}
	// ReActXen's Agent-Ask, as our runs record a clarifying question.
	wantAsk := trajectory.Step{
		Kind: trajectory.KindAsk, Agent: "user", Tool: trajectory.AskTool, Thought: "which?",
		Args: json.RawMessage(`{"question":"Which site?"}`), Observation: json.RawMessage(`{"answer":"MAIN"}`),
	}
	if diff := cmp.Diff(wantAsk, trs[0].Steps[1]); diff != "" {
		t.Errorf("Agent-Ask (-want +got):\n%s", diff)
	}
	if b := trs[1]; b.Agent != "plan-execute" || b.ScenarioID != "7" || b.Steps[0].Sub != nil || len(b.Warnings) != 1 {
		t.Errorf("AgentHive item: %+v", b)
	}
}

func FuzzImport(f *testing.F) {
	// Small records: the fuzzer minimises every new input, which is slow on
	// the 20-300 kB ones.
	for _, rel := range []string{
		"benchmarks/runs/2026-09-30-transformer/models/opus-5-5/trajectories/opus-5-5_0001.json",
		"benchmarks/runs/2026-09-30-transformer/models/gpt-6-1-sol/trajectories/gpt-6-1-sol_0001.json",
		"benchmarks/runs/2026-09-30-transformer-k3/repetition-3/models/gpt-6-astra/trajectories/gpt-6-astra_0052.json",
		"benchmarks/runs/2026-09-30-transformer/models/opus-5-5/measurements/opus-5-5_0001.json",
	} {
		if b, err := os.ReadFile(filepath.Join(runs, rel)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"id":1,"text":"What IoT sites are available?","trajectory":[{"task_number":1,"task_description":"List sites","agent_name":"IoT Data Download","response":"MAIN","logs":{"task":"List sites\n","trajectory":[{"thought":"t","action":"Tool Name: sites , Tool Parameter: Action Input 1: {}","observation":"{\"sites\": [\"MAIN\"]}"},{"thought":"","action":"Tool Name: Finish , Tool Parameter: MAIN","observation":""}],"info":{"model_stats":{"tokens_sent":10,"tokens_received":2,"api_calls":1}},"final_answer":"MAIN","reviews":["Task Status: Accomplished\nReasoning: ok\nSuggestions for Improvement: None\n"]}}]}`))
	f.Add([]byte(`{"run_id":"g","scenario_id":"s","runner":"openai-agent","model":"m","question":"q","answer":"a","trajectory":{"turns":[{"index":0,"text":"","tool_calls":[{"name":"sensor_stats","input":{"sensor":"co"},"id":"call_1","output":{"type":"text","text":"{\n  \"error\": \"no records\"\n}"},"duration_ms":null}],"input_tokens":5,"output_tokens":1,"duration_ms":null},{"index":1,"text":"a","tool_calls":[],"input_tokens":1,"output_tokens":1,"duration_ms":null}]}}`))
	if b, err := Export(handBuilt()); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"run_id":"r","metrics":{"tool_calls":[{"name":"mcp__a__b","output":{"content":[{"type":"text","text":"{\"result\":1}"}],"isError":true},"error":"x"}]},"error":{"type":"CalledProcessError","message":"Command '['a', \"b\\u00e9\"]' returned"}}`))
	f.Add([]byte(`[{"task":"q","trajectory":[{"action":"Tool Name: Agent-Ask , Tool Parameter: Action Input 1: why?","observation":"Invalid Action detected"}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		trs, err := Import(data, "fuzz")
		if err != nil {
			return
		}
		if len(trs) == 0 {
			t.Fatal("no error and no trajectories")
		}
		for _, tr := range trs {
			b, err := Export(tr)
			if err != nil {
				t.Fatalf("re-export: %v", err)
			}
			if _, err := Import(b, "re-export"); err != nil {
				t.Fatalf("import of the re-export: %v", err)
			}
		}
	})
}

// Our own trajectories, from the reference runs of every style: Import reads
// their JSON as it is, and Export then Import keeps every action the judges
// see (tools, arguments, results, errors) in order.
func TestOurTrajectories(t *testing.T) {
	files, err := filepath.Glob("../../../results/reference*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("reference results: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var run struct {
			Records []struct {
				Trajectory json.RawMessage `json:"trajectory"`
			} `json:"records"`
		}
		if err := json.Unmarshal(data, &run); err != nil {
			t.Fatal(err)
		}
		for _, rec := range run.Records {
			var want trajectory.Trajectory
			if err := json.Unmarshal(rec.Trajectory, &want); err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(f) + "/" + want.ScenarioID
			got, err := Import(rec.Trajectory, name)
			if err != nil || len(got) != 1 {
				t.Fatalf("%s: %v", name, err)
			}
			if diff := cmp.Diff(&want, got[0]); diff != "" {
				t.Errorf("%s: native import (-want +got):\n%s", name, diff)
			}
			exported, err := Export(&want)
			if err != nil {
				t.Fatalf("%s: export: %v", name, err)
			}
			back, err := Import(exported, name)
			if err != nil {
				t.Fatalf("%s: re-import: %v", name, err)
			}
			type action struct {
				Tool, Args, Observation string
				OK                      bool
			}
			// Compared as JSON values: the export re-encodes with sorted keys.
			norm := func(b json.RawMessage) string {
				var v any
				if json.Unmarshal(b, &v) != nil {
					return string(b)
				}
				out, _ := json.Marshal(v)
				return string(out)
			}
			flat := func(tr *trajectory.Trajectory) []action {
				var out []action
				for _, s := range tr.Actions() {
					out = append(out, action{s.Tool, norm(s.Args), norm(s.Observation), s.OK()})
				}
				return out
			}
			if diff := cmp.Diff(flat(&want), flat(back[0]), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: actions after export and import (-want +got):\n%s", name, diff)
			}
			if back[0].FinalAnswer != want.FinalAnswer {
				t.Errorf("%s: answer %q, want %q", name, back[0].FinalAnswer, want.FinalAnswer)
			}
		}
	}
}
