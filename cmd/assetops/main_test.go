package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/cassettes"
	"github.com/assetops/assetops/fixtures/couchtest"
	"github.com/assetops/assetops/harness/result"
	"github.com/assetops/assetops/harness/sim"
	"github.com/assetops/assetops/scenarios"
	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

var update = flag.Bool("update", false, "re-record cassettes/reference.jsonl through the simulator and rewrite the golden files in results/")

const (
	root            = "../.."
	referenceTape   = root + "/cassettes/" + cassettes.Reference
	referenceResult = root + "/results/reference.json"
	referenceTable  = root + "/results/reference.txt"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// referenceRuns are the reference runs: every agent style on both
// protocols. The first is the README's first command, with its golden files
// at results/reference.{json,txt}; the others' are named after the style
// and the model.
var referenceRuns = []struct{ style, model string }{
	{"react", "oracle"},
	{"react", "oracle-text"},
	{"tool-as-agent", "oracle"},
	{"tool-as-agent", "oracle-text"},
	{"plan-execute", "oracle"},
	{"plan-execute", "oracle-text"},
}

func referenceFiles(style, model string) (result, table string) {
	name := "reference"
	if style != "react" || model != "oracle" {
		name += "-" + style + "-" + model
	}
	return root + "/results/" + name + ".json", root + "/results/" + name + ".txt"
}

// The reference runs replay from the embedded cassettes to tables and result
// files equal to the golden files (trajectories included); -update
// re-records all of them through the simulator into one cassette file first.
func TestReferenceRun(t *testing.T) {
	dir := t.TempDir()
	tape := []string{}
	if *update {
		ss, err := scenarios.Embedded()
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sim.New(sim.Policies(ss)))
		defer srv.Close()
		// One Badger store across the runs, so the last export holds them all.
		db := filepath.Join(dir, "badger")
		for _, rr := range referenceRuns {
			res, table := referenceFiles(rr.style, rr.model)
			code, out, errs := runMain(t, "run", "--mode", "record", "--ollama", srv.URL, "--model", rr.model, "--agent", rr.style,
				"--cassette-db", db, "--cassettes", referenceTape, "--out", res, "--files", filepath.Join(dir, "files"))
			if code != 0 {
				t.Fatalf("record %s %s: exit %d: %s", rr.style, rr.model, code, errs)
			}
			if err := os.WriteFile(table, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// This test binary embeds the cassettes from before the update.
		tape = []string{"--cassettes", referenceTape}
	} else {
		embedded, err := cassettes.FS.ReadFile(cassettes.Reference)
		if err != nil {
			t.Fatal(err)
		}
		onDisk, err := os.ReadFile(referenceTape)
		if err != nil || !bytes.Equal(embedded, onDisk) {
			t.Fatalf("embedded reference cassettes differ from %s (%v)", referenceTape, err)
		}
	}
	for _, rr := range referenceRuns {
		t.Run(rr.style+"/"+rr.model, func(t *testing.T) {
			wantResult, wantTable := referenceFiles(rr.style, rr.model)
			args := []string{"run", "--out", filepath.Join(dir, "result.json"), "--files", filepath.Join(dir, "files")}
			if rr != referenceRuns[0] {
				args = append(args, "--agent", rr.style, "--model", rr.model)
			}
			code, out, errs := runMain(t, append(args, tape...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			table, err := os.ReadFile(wantTable)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(table), out); diff != "" {
				t.Errorf("table differs from %s (-want +got):\n%s", wantTable, diff)
			}
			want, err := result.ReadFile(wantResult)
			if err != nil {
				t.Fatal(err)
			}
			got, err := result.ReadFile(filepath.Join(dir, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result differs from %s (-want +got):\n%s", wantResult, diff)
			}
			if !strings.Contains(out, rr.model+" (simulated reference policy)") || !strings.Contains(out, "not the results of a model") {
				t.Error("the reference rows are not labelled as a simulated reference policy")
			}
		})
	}
}

// Bad input: one line saying what is wrong, a non-zero exit, and no result
// or cassette file left behind, whole or partial.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	res := filepath.Join(out, "result.json")
	corrupt := filepath.Join(dir, "corrupt.jsonl")
	if err := os.WriteFile(corrupt, []byte(`{"format":"assetops-cassette","version":2}`+"\n{\"key\":"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		args []string
		code int
		want string // in the first line of stderr
	}{
		{"unknown tool", []string{"tool", "iot.nope", "{}"}, 1, `unknown tool "iot.nope"`},
		{"malformed tool arguments", []string{"tool", "iot.history", `{"site_name":`}, 1, "invalid arguments for iot.history: not JSON"},
		{"tool arguments against the schema", []string{"tool", "iot.history", `{"site_name":"MAIN"}`}, 1, `missing properties: ["asset_id" "start" "end"]`},
		{"unknown asset", []string{"tool", "iot.sensors", `{"site_name":"MAIN","asset_id":"Chiller 99"}`}, 1, `unknown asset "Chiller 99"`},
		{"tool without a name", []string{"tool"}, 2, "usage: assetops tool [flags] NAME"},
		{"unknown scenario id", []string{"run", "--only", "iot-01,nope", "--out", res}, 1, `unknown scenario "nope"`},
		{"missing cassette entry", []string{"run", "--model", "llama3", "--out", res}, 1, "cassette miss: model llama3 was never recorded"},
		{"missing cassette call", []string{"run", "--seed", "7", "--out", res}, 1, "cassette miss: no recorded chat call 1 for scenario fmsr-01, model oracle, epoch 0"},
		{"corrupt cassette file", []string{"run", "--cassettes", corrupt, "--out", res}, 1, "corrupt.jsonl:2: bad line"},
		{"missing cassette file", []string{"run", "--cassettes", filepath.Join(dir, "none.jsonl"), "--out", res}, 1, "no such file"},
		{"unreachable ollama", []string{"run", "--mode", "record", "--ollama", deadAddr, "--cassettes", filepath.Join(out, "c.jsonl"), "--out", res}, 1, "connection refused"},
		{"bad mode", []string{"run", "--mode", "rewind"}, 2, `unknown cassette mode "rewind"`},
		{"ollama in replay", []string{"run", "--ollama", deadAddr}, 2, "--ollama is not used with --mode replay"},
		{"bad flag", []string{"run", "--nope"}, 2, "flag provided but not defined"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"scenario file missing", []string{"scenarios", "list", "--scenarios", filepath.Join(dir, "none")}, 1, "load scenarios"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runMain(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errs)
			}
			first, _, _ := strings.Cut(errs, "\n")
			if !strings.Contains(first, tt.want) {
				t.Errorf("first line of stderr %q, want it to contain %q", first, tt.want)
			}
			if !strings.HasPrefix(errs, "assetops: ") && !strings.HasPrefix(errs, "flag provided") {
				t.Errorf("stderr does not start with the error line: %q", errs)
			}
			left, _ := os.ReadDir(out)
			for _, e := range left {
				t.Errorf("left behind: %s", e.Name())
			}
		})
	}
}

// The miss error is followed by a diff against the closest recording.
func TestMissPrintsDiff(t *testing.T) {
	_, _, errs := runMain(t, "run", "--seed", "7", "--out", filepath.Join(t.TempDir(), "r.json"))
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	// go-cmp varies its spacing on purpose; match the lines loosely.
	recorded := regexp.MustCompile(`(?m)^-[\s\x{a0}]+"seed":[\s\x{a0}]+float64\(42\)`)
	requested := regexp.MustCompile(`(?m)^\+[\s\x{a0}]+"seed":[\s\x{a0}]+float64\(7\)`)
	if len(lines) < 3 || lines[1] != "closest recorded request (-recorded +requested):" ||
		!recorded.MatchString(errs) || !requested.MatchString(errs) {
		t.Errorf("stderr:\n%s", errs)
	}
}

func TestToolsAndTool(t *testing.T) {
	code, out, _ := runMain(t, "tools")
	for _, name := range []string{"iot.sites", "iot.assets", "iot.sensors", "iot.history", "fmsr.get_failure_modes", "tsfm.get_tsfm_models", "wo.get_work_orders"} {
		if !strings.Contains(out, name) {
			t.Errorf("tools does not list %s", name)
		}
	}
	if code != 0 {
		t.Errorf("tools: exit %d", code)
	}
	code, out, _ = runMain(t, "tools", "--json")
	var schemas []map[string]any
	if want := len(agents.Registry(nil).Tools()); code != 0 || json.Unmarshal([]byte(out), &schemas) != nil || len(schemas) != want || want != 33 {
		t.Errorf("tools --json: exit %d, %d tools, want %d", code, len(schemas), want)
	}
	code, out, errs := runMain(t, "tool", "wo.get_work_orders", `{"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30"}`)
	var wo struct{ Total, Corrective int }
	if code != 0 || json.Unmarshal([]byte(out), &wo) != nil || wo.Total != 3 || wo.Corrective != 1 {
		t.Errorf("tool: exit %d, %+v, %s", code, wo, errs)
	}
	code, out, _ = runMain(t, "tool", "iot.sites")
	if code != 0 || strings.TrimSpace(out) != "{\n  \"sites\": [\n    \"MAIN\"\n  ]\n}" {
		t.Errorf("tool without arguments: exit %d, %q", code, out)
	}
}

// A failed call prints the error result an agent would see, and exits 1;
// files go to --out-dir, the clock follows --now.
func TestToolFailuresAndEnvironment(t *testing.T) {
	code, out, errs := runMain(t, "tool", "iot.history", `{"site_name":"MAIN"}`)
	var res struct{ Error, Kind string }
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.Kind != "invalid_arguments" || !strings.Contains(res.Error, "asset_id") {
		t.Errorf("exit %d, %s, stderr %s", code, out, errs)
	}
	dir := t.TempDir()
	code, out, errs = runMain(t, "tool", "--out-dir", dir, "iot.history",
		`{"site_name":"MAIN","asset_id":"Chiller 9","start":"2020-06-01","end":"2020-06-02","limit":10}`)
	var h struct {
		FilePath string `json:"file_path"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &h) != nil || h.FilePath == "" {
		t.Fatalf("exit %d, %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, h.FilePath)); err != nil {
		t.Errorf("history file not in --out-dir: %v", err)
	}
	code, out, _ = runMain(t, "tool", "--now", "2020-06-10T08:30:00", "util.current_date_time")
	if code != 0 || !strings.Contains(out, `"currentDateTime": "2020-06-10T08:30:00"`) {
		t.Errorf("--now: exit %d, %s", code, out)
	}
	if code, _, errs = runMain(t, "tool", "--now", "soon", "util.current_date_time"); code != 2 || !strings.Contains(errs, "--now") {
		t.Errorf("bad --now: exit %d, %s", code, errs)
	}
}

// --dataset puts the tools on the original sample data, and they state
// what its scenarios say (400: CWC04013 in 2017; 405: CWC04009 in June 2020).
func TestToolOnOriginalData(t *testing.T) {
	const dataset = "../../../shared/aob/sample_data"
	code, out, errs := runMain(t, "tool", "--dataset", dataset, "wo.get_work_orders", `{"equipment_id":"CWC04013","start_date":"2017-01-01","end_date":"2017-12-31"}`)
	var wo struct{ Total, Preventive, Corrective int }
	if code != 0 || json.Unmarshal([]byte(out), &wo) != nil || wo != (struct{ Total, Preventive, Corrective int }{33, 31, 2}) {
		t.Errorf("CWC04013 in 2017: exit %d, %+v, %s", code, wo, errs)
	}
	code, out, errs = runMain(t, "tool", "--dataset", dataset, "wo.summarize_events", `{"equipment_id":"CWC04009","start_date":"2020-06-01","end_date":"2020-06-30"}`)
	var ev struct {
		ByGroup map[string]int `json:"by_group"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil || ev.ByGroup["WORK_ORDER"] != 3 || ev.ByGroup["ALERT"] != 30 || ev.ByGroup["ANOMALY"] != 30 {
		t.Errorf("CWC04009 in June 2020: exit %d, %s %s", code, out, errs)
	}
}

// mcp serve speaks MCP on stdin/stdout: the SDK's client lists and calls
// the tools through it.
func TestMCPServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"mcp", "serve", "--agent", "wo", "--out-dir", t.TempDir()}, inR, outW, &errb)
		outW.Close()
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil).Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) != 14 || tools.Tools[0].Name != "analyze_alert_to_failure" {
		t.Errorf("%d tools, first %q", len(tools.Tools), tools.Tools[0].Name)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_work_orders", Arguments: map[string]any{"equipment_id": "CWC04009", "start_date": "2020-06-01", "end_date": "2020-06-30"}})
	if err != nil {
		t.Fatal(err)
	}
	var wo struct{ Total, Preventive, Corrective int }
	if err := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &wo); err != nil || res.IsError || wo.Total != 3 || wo.Corrective != 1 {
		t.Errorf("call: %+v, %v", wo, err)
	}
	cs.Close()
	inW.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	if code, _, errs := runMain(t, "mcp", "serve", "--agent", "vibration"); code != 2 || !strings.Contains(errs, `unknown agent "vibration"`) {
		t.Errorf("unknown agent: exit %d, %s", code, errs)
	}
}

func TestScenariosList(t *testing.T) {
	code, out, errs := runMain(t, "scenarios", "list", "--scenarios", "../../../shared/aob/scenarios")
	if code != 0 || !strings.Contains(out, "141 scenarios:") {
		t.Errorf("exit %d, %s %s", code, lastLine(out), errs)
	}
	code, out, _ = runMain(t, "scenarios", "list")
	if code != 0 || !regexp.MustCompile(`\d+ scenarios: FMSR 1 IoT 2 Multi-agent 1 TSFM 1 WO 1`).MatchString(out) {
		t.Errorf("exit %d, %s", code, lastLine(out))
	}
}

// sim serve answers on the address it prints, and stops on cancel.
func TestSimServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"sim", "serve", "--addr", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := regexp.MustCompile(`http://\S+`).FindString(line)
	url = strings.TrimSuffix(url, ";")
	resp, err := http.Get(url + "/api/version")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), sim.Version) {
		t.Errorf("version = %s", b)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel", code)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// data load into a CouchDB-protocol server, then the tools read from it.
func TestDataLoadIntoCouchDB(t *testing.T) {
	url := couchtest.URL(t)
	c := couchtest.Client(t)
	prefix := couchtest.Prefix(t, c)
	dataset := "../../../shared/aob/sample_data"
	code, out, errs := runMain(t, "data", "load", "--couch", url, "--couch-prefix", prefix, "--dataset", dataset)
	if code != 0 || !strings.Contains(out, prefix+"work_orders") || !strings.Contains(out, "4249") {
		t.Fatalf("data load: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "work_orders") {
		t.Errorf("no progress on stderr: %q", errs)
	}
	// Again: everything is already there, nothing is duplicated.
	code, _, errs = runMain(t, "data", "load", "--couch", url, "--couch-prefix", prefix, "--dataset", dataset)
	if code != 0 || !regexp.MustCompile(`work_orders +4249/4249 +\(4249 already there\)`).MatchString(errs) {
		t.Errorf("second load: exit %d, %s", code, errs)
	}
	code, out, errs = runMain(t, "tool", "--couch", url, "--couch-prefix", prefix, "wo.get_work_orders",
		`{"equipment_id":"CWC04013","start_date":"2017-01-01","end_date":"2017-12-31"}`)
	var wo struct{ Total int }
	if code != 0 || json.Unmarshal([]byte(out), &wo) != nil || wo.Total != 33 {
		t.Errorf("tool over CouchDB: exit %d, %s %s", code, out, errs)
	}
	code, out, _ = runMain(t, "data", "info", "--couch", url, "--couch-prefix", prefix)
	if code != 0 || !strings.Contains(out, "dataset from ") {
		t.Errorf("data info: exit %d, %s", code, out)
	}
	code, _, errs = runMain(t, "tool", "--couch", url, "--couch-prefix", prefix+"nothing_", "iot.sites")
	if code != 1 || !strings.Contains(errs, "no dataset loaded under prefix") {
		t.Errorf("tool over an empty CouchDB: exit %d, %s", code, errs)
	}
}

func TestDataBadInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/"
	ln.Close()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"couchdb down on load", []string{"data", "load", "--couch", dead, "--dataset", "../../../shared/aob/sample_data"}, 1, "connection refused"},
		{"couchdb down on read", []string{"tool", "--couch", dead, "iot.sites"}, 1, "connection refused"},
		{"dataset with couch", []string{"tool", "--couch", dead, "--dataset", "x", "iot.sites"}, 2, "load it into CouchDB first"},
		{"malformed dataset", []string{"tool", "--dataset", "../../fixtures/aob/testdata/bad-date", "iot.sites"}, 1, `actual_finish: cannot read time "June 2nd"`},
		{"no such dataset", []string{"data", "info", "--dataset", "nope"}, 1, "not a directory"},
		{"data without a verb", []string{"data"}, 2, "usage: assetops data load|info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runMain(t, tt.args...)
			first, _, _ := strings.Cut(errs, "\n")
			if code != tt.code || !strings.Contains(first, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.want)
			}
		})
	}
}

// Trajectories of the original import as ours; ours export to its shape and
// read back.
func TestTrajectoryImportExport(t *testing.T) {
	const q1 = "../../../shared/aob/runs/benchmark/cods_track1/track1_result/trajectory/Q_1_trajectory.json"
	code, out, errs := runMain(t, "trajectory", "import", q1)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	var trs []trajectory.Trajectory
	if err := json.Unmarshal([]byte(out), &trs); err != nil || len(trs) != 1 {
		t.Fatalf("import printed %d trajectories: %v", len(trs), err)
	}
	if trs[0].Question != "What IoT sites are available?" || trs[0].Agent != trajectory.StylePlanExecute || len(trs[0].Actions()) == 0 {
		t.Errorf("imported %q by %s with %d actions", trs[0].Question, trs[0].Agent, len(trs[0].Actions()))
	}

	dir := t.TempDir()
	res, _ := referenceFiles("tool-as-agent", "oracle")
	if code, _, errs := runMain(t, "trajectory", "export", "--out", dir, res); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	exported := filepath.Join(dir, "multi-01.json")
	code, out, errs = runMain(t, "trajectory", "import", exported)
	if code != 0 {
		t.Fatalf("re-import: exit %d: %s", code, errs)
	}
	if err := json.Unmarshal([]byte(out), &trs); err != nil || len(trs) != 1 {
		t.Fatal(err)
	}
	var tools []string
	for _, s := range trs[0].Actions() {
		tools = append(tools, s.Tool)
	}
	if diff := cmp.Diff([]string{"iot.latest_reading", "fmsr.get_failure_mode_sensor_mapping"}, tools); diff != "" {
		t.Errorf("exported tool-as-agent run flattens to (-want +got):\n%s", diff)
	}

	for _, args := range [][]string{{"trajectory"}, {"trajectory", "import"}, {"trajectory", "export", res}} {
		if code, _, _ := runMain(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, _, errs := runMain(t, "trajectory", "import", "main.go"); code != 1 || !strings.Contains(errs, "import main.go") {
		t.Errorf("a Go file: exit %d, %s", code, errs)
	}
}

func TestScenariosValidate(t *testing.T) {
	code, out, errs := runMain(t, "scenarios", "validate")
	if code != 0 || !strings.Contains(out, "ok   multi-01") || !strings.Contains(out, "every gold trajectory runs") {
		t.Errorf("embedded: exit %d, %s %s", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	line := `{"id":"bad-01","type":"IoT","category":"Data Query","characteristic_form":"f","text":"What does Chiller 99 read?","expect":{"calls":[],"facts":[]},"gold":{"steps":[{"tool":"iot.latest_reading","args":{"site_name":"MAIN","asset_id":"Chiller 99"}}],"answer":"x"}}`
	if err := os.WriteFile(bad, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runMain(t, "scenarios", "validate", "--scenarios", bad)
	if code != 1 || !strings.Contains(out, "FAIL scenario bad-01") || !strings.Contains(out, "Chiller 99") || !strings.Contains(errs, "1 of 1 scenarios") {
		t.Errorf("bad scenario: exit %d, %s %s", code, out, errs)
	}
}
