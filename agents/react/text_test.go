package react

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/llm"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func act(thought, action, input string) TextReply {
	return TextReply{Thought: thought, Action: action, Input: json.RawMessage(input)}
}

func fin(thought, final string) TextReply {
	return TextReply{Thought: thought, Input: json.RawMessage("{}"), Final: final, HasFinal: true}
}

// textCase is one model reply: inline in reply, or in testdata/text/<file>.
type textCase struct {
	name    string
	reply   string
	file    string
	want    TextReply
	wantErr string // a substring of the error; empty when the reply parses
}

func (c textCase) input(t testing.TB) string {
	if c.file == "" {
		return c.reply
	}
	b, err := os.ReadFile(filepath.Join("testdata", "text", c.file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var textCases = []textCase{
	{
		name:  "clean",
		reply: "Thought: I need the list of sites first.\nAction: iot.sites\nAction Input: {}",
		want:  act("I need the list of sites first.", "iot.sites", `{}`),
	},
	{
		name:  "clean with arguments, compacted",
		reply: "Thought: List the chillers at MAIN.\nAction: iot.assets\nAction Input: {\"site_name\": \"MAIN\", \"asset_class\": \"chiller\"}\n",
		want:  act("List the chillers at MAIN.", "iot.assets", `{"site_name":"MAIN","asset_class":"chiller"}`),
	},
	{
		name:  "numbered labels",
		reply: "Thought 1: I need the failure modes.\nAction 1: fmsr.get_failure_modes\nAction Input 1: {\"asset_name\": \"chiller\"}",
		want:  act("I need the failure modes.", "fmsr.get_failure_modes", `{"asset_name":"chiller"}`),
	},
	{
		name:  "bold labels and backticked name",
		reply: "**Thought:** The sites come first.\n**Action:** `iot.sites`\n**Action Input:** {}",
		want:  act("The sites come first.", "iot.sites", `{}`),
	},
	{
		name:  "emphasis before the colon, indented",
		reply: "  *Thought*: Check Chiller 9.\n  *Action*: iot.asset_detail\n  *Action Input*: {\"site_name\":\"MAIN\",\"asset_id\":\"Chiller 9\"}",
		want:  act("Check Chiller 9.", "iot.asset_detail", `{"site_name":"MAIN","asset_id":"Chiller 9"}`),
	},
	{
		name:  "lower case, Action input and ActionInput",
		reply: "thought: sites\naction: iot.sites\nActionInput: {}\n",
		want:  act("sites", "iot.sites", `{}`),
	},
	{
		name:  "Action input spelled in lower case",
		reply: "Thought: sites\nAction: iot.assets\nAction input: {\"site_name\": \"MAIN\"}",
		want:  act("sites", "iot.assets", `{"site_name":"MAIN"}`),
	},
	{
		name:  "Input alias after the Action",
		reply: "Thought: sites\nAction: iot.assets\nInput: {\"site_name\": \"MAIN\"}",
		want:  act("sites", "iot.assets", `{"site_name":"MAIN"}`),
	},
	{
		name: "fenced JSON over several lines",
		file: "fenced_json.txt",
		want: act("I need the failure modes of Chiller 6 before I can map them to sensors.", "fmsr.get_failure_modes", `{"asset_name":"Chiller 6"}`),
	},
	{
		name: "hallucinated observation and final answer after the input",
		file: "hallucinated_observation.txt",
		want: act("To find the assets at the MAIN site, I should list them first.", "iot.assets", `{"site_name":"MAIN","asset_class":"chiller"}`),
	},
	{
		name:  "trailing comma",
		reply: "Thought: chillers\nAction: iot.assets\nAction Input: {\"site_name\": \"MAIN\", \"asset_class\": \"chiller\",}",
		want:  act("chillers", "iot.assets", `{"site_name":"MAIN","asset_class":"chiller"}`),
	},
	{
		name:  "single quotes and Python literals",
		reply: "Thought: one page\nAction: iot.history\nAction Input: {'site_name': 'MAIN', 'asset_id': 'Chiller 6', 'limit': 10, 'sensors': None, 'note': 'say \"hi\"'}",
		want:  act("one page", "iot.history", `{"site_name":"MAIN","asset_id":"Chiller 6","limit":10,"sensors":null,"note":"say \"hi\""}`),
	},
	{
		name: "Python dict over several lines with trailing text",
		file: "python_dict_multiline.txt",
		want: act("I will pull one day of telemetry for Chiller 6.", "iot.history",
			`{"site_name":"MAIN","asset_id":"Chiller 6","start":"2020-06-01T00:00:00","end":"2020-06-02T00:00:00","sensors":["Chiller 6 Supply Temperature","Chiller 6 Return Temperature"]}`),
	},
	{
		name:  "apostrophe in a single-quoted string stays an error",
		reply: "Action: wo.create_work_order\nAction Input: {'description': 'check the chiller's condenser'}",
		wantErr: "Invalid Action Input for wo.create_work_order: invalid character '\\'' looking for beginning of object key string. " +
			"Action Input must be a JSON object.",
	},
	{
		name:  "Finish with a bracket answer",
		reply: "Thought 3: I have everything.\nAction 3: Finish[Chiller 6 and Chiller 9]",
		want:  fin("I have everything.", "Chiller 6 and Chiller 9"),
	},
	{
		name:  "Finish with the answer as Action Input",
		reply: "Thought: Done.\nAction: Finish\nAction Input: \"There are 2 chillers at MAIN.\"",
		want:  fin("Done.", "There are 2 chillers at MAIN."),
	},
	{
		name: "ReActXen steps: Question skipped, Python dict in brackets, Observation cuts",
		file: "reactxen_steps.txt",
		want: act("I need the mapping between failure modes and sensors for Chiller 6.", "fmsr.get_failure_mode_sensor_mapping",
			`{"asset_name":"Chiller 6","sensors":["Chiller 6 Tonnage"],"failure_modes":null}`),
	},
	{
		name:  "bare bracket argument",
		reply: "Action 1: fmsr.get_failure_modes[Chiller 6]",
		want:  act("", "fmsr.get_failure_modes", `{"input":"Chiller 6"}`),
	},
	{
		name:  "empty call parentheses and a parenthetical comment",
		reply: "Thought: sites\nAction: iot.sites (no input needed)",
		want:  act("sites", "iot.sites", `{}`),
	},
	{
		name: "final answer over several lines",
		file: "final_multiline.txt",
		want: fin("I have the work orders and their failure codes, so I can summarise.",
			"Chiller 6 (CWC04006) had 3 corrective work orders in 2019:\n\n- 2019-02-11, M013 (condenser tube leak)\n"+
				"- 2019-06-03, M005 (refrigerant leak)\n- 2019-09-21, M013 (condenser tube leak)\n\nThe most frequent failure code is M013."),
	},
	{
		name:  "Action before Final Answer: the action wins",
		reply: "Thought: I will check.\nAction: iot.sites\nAction Input: {}\nFinal Answer: MAIN",
		want:  act("I will check.", "iot.sites", `{}`),
	},
	{
		name:  "Final Answer before Action: the answer wins and keeps the rest",
		reply: "Thought: I know it.\nFinal Answer: MAIN is the only site.\nAction: iot.sites\nAction Input: {}",
		want:  fin("I know it.", "MAIN is the only site.\nAction: iot.sites\nAction Input: {}"),
	},
	{
		name:  "Action None then Final Answer",
		reply: "Thought: No tool is needed.\nAction: None\nAction Input: None\nFinal Answer: 42 work orders.",
		want:  fin("No tool is needed.", "42 work orders."),
	},
	{
		name:  "Final Answer as the action",
		reply: "Thought: done\nAction: Final Answer: Chiller 6 (CWC04006).",
		want:  fin("done", "Chiller 6 (CWC04006)."),
	},
	{
		name:  "unlabelled text before the Final Answer is the thought",
		reply: "I now know the final answer.\n\nFinal Answer: MAIN",
		want:  fin("I now know the final answer.", "MAIN"),
	},
	{
		name:  "Observation before the first action is skipped",
		reply: "Observation: I see the user wants sites.\nThought: list them\nAction: iot.sites\nAction Input: {}",
		want:  act("list them", "iot.sites", `{}`),
	},
	{
		name:  "action without input",
		reply: "Thought: I need the current time.\nAction: util.current_date_time",
		want:  act("I need the current time.", "util.current_date_time", `{}`),
	},
	{
		name:  "empty Action Input",
		reply: "Thought: sites\nAction: iot.sites\nAction Input:\n",
		want:  act("sites", "iot.sites", `{}`),
	},
	{
		name:  "None input",
		reply: "Action: iot.sites\nAction Input: None",
		want:  act("", "iot.sites", `{}`),
	},
	{
		name:  "null input",
		reply: "Action: iot.sites\nAction Input: null",
		want:  act("", "iot.sites", `{}`),
	},
	{
		name:  "text after the object on its line",
		reply: "Action: iot.assets\nAction Input: {\"site_name\": \"MAIN\"} (then I will look at the chillers)",
		want:  act("", "iot.assets", `{"site_name":"MAIN"}`),
	},
	{
		name:  "text before the object",
		reply: "Action: iot.assets\nAction Input: the arguments are {\"site_name\": \"MAIN\"}",
		want:  act("", "iot.assets", `{"site_name":"MAIN"}`),
	},
	{
		name:  "quoted name with trailing punctuation",
		reply: "Action: \"wo.get_work_orders\".\nAction Input: {\"equipment_id\": \"CWC04009\"}",
		want:  act("", "wo.get_work_orders", `{"equipment_id":"CWC04009"}`),
	},
	{
		name: "think block dropped",
		file: "think_block.txt",
		want: act("The latest reading tool gives the current supply temperature.", "iot.latest_reading",
			`{"site_name":"MAIN","asset_id":"Chiller 9","sensor":"Supply Temperature"}`),
	},
	{
		name: "markdown headings, values on the next lines",
		file: "markdown_next_line.txt",
		want: act("I should check which IoT sites exist.", "iot.sites", `{}`),
	},
	{
		name:  "unicode",
		reply: "Thought: Supply temperature is 7 °C above set point, Δ = 2.5 K.\nAction: iot.sensor_stats\nAction Input: {\"site_name\": \"MAIN\", \"asset_id\": \"Chiller 6\", \"note\": \"ΔT > 2 °C\"}",
		want:  act("Supply temperature is 7 °C above set point, Δ = 2.5 K.", "iot.sensor_stats", `{"site_name":"MAIN","asset_id":"Chiller 6","note":"ΔT > 2 °C"}`),
	},
	{
		name:  "CRLF line endings",
		reply: "Thought: sites\r\nAction: iot.assets\r\nAction Input: {\r\n  \"site_name\": \"MAIN\"\r\n}\r\n",
		want:  act("sites", "iot.assets", `{"site_name":"MAIN"}`),
	},
	{
		name:  "multi-line thought is collapsed",
		reply: "Thought: First the sites,\n   then the assets.\nAction: iot.sites\nAction Input: {}",
		want:  act("First the sites, then the assets.", "iot.sites", `{}`),
	},
	{
		name:  "list items with bold labels",
		reply: "- **Thought:** sites first\n- **Action:** iot.sites\n- **Action Input:** {}",
		want:  act("sites first", "iot.sites", `{}`),
	},
	{
		name:  "full-width colons",
		reply: "Thought：sites\nAction：iot.sites\nAction Input：{}",
		want:  act("sites", "iot.sites", `{}`),
	},
	{
		name:  "object on the line after the Action, without its label",
		reply: "Action: iot.assets\n{\"site_name\": \"MAIN\"}",
		want:  act("", "iot.assets", `{"site_name":"MAIN"}`),
	},
	{
		name:    "input is a JSON number",
		reply:   "Action: iot.history\nAction Input: 42",
		wantErr: "Invalid Action Input for iot.history: got a JSON number.",
	},
	{
		name:    "input is a JSON array",
		reply:   "Action: iot.history\nAction Input: [\"MAIN\", \"Chiller 6\"]",
		wantErr: "Invalid Action Input for iot.history: got a JSON array. Action Input must be a JSON object.",
	},
	{
		name:    "input is not JSON",
		reply:   "Thought: x\nAction: iot.assets\nAction Input: site_name = MAIN",
		wantErr: "Invalid Action Input for iot.assets: invalid character 's' looking for beginning of value. Action Input must be a JSON object.",
	},
	{
		name:    "unclosed object",
		reply:   "Action: iot.assets\nAction Input: {\"site_name\": \"MAIN\"",
		wantErr: "Invalid Action Input for iot.assets: the JSON ends before it is complete.",
	},
	{
		name:    "bad JSON in brackets",
		reply:   "Action: iot.assets[{site_name: MAIN}]",
		wantErr: "Invalid Action Input for iot.assets: invalid character 's'",
	},
	{
		name:    "no labels",
		reply:   "The chillers at MAIN are Chiller 6 and Chiller 9.",
		wantErr: `Invalid format: no "Action:" or "Final Answer:" line. Reply with Thought, Action and Action Input, or with Final Answer.`,
	},
	{
		name:    "unknown junk",
		reply:   "}}}{{{ ::: <|im_end|> ```json\n[1,2,3]\n```",
		wantErr: `Invalid format: no "Action:" or "Final Answer:" line.`,
	},
	{
		name:    "only a thought",
		reply:   "Thought: I should call iot.sites.",
		wantErr: `Invalid format: no "Action:" or "Final Answer:" line.`,
	},
	{
		name:    "Action None and nothing else",
		reply:   "Thought: hmm\nAction: None\nAction Input: {}",
		wantErr: `Invalid format: "Action:" names no tool.`,
	},
	{
		name:    "empty Final Answer",
		reply:   "Thought: done\nFinal Answer:\nObservation: none",
		wantErr: "Invalid format: the Final Answer is empty.",
	},
	{
		name:    "empty Finish",
		reply:   "Action: Finish[]",
		wantErr: "Invalid format: the Final Answer is empty.",
	},
	{
		name:    "empty string",
		reply:   "",
		wantErr: "Invalid format: the reply is empty.",
	},
	{
		name:    "blank lines",
		reply:   " \r\n\t\n",
		wantErr: "Invalid format: the reply is empty.",
	},
}

func TestParseText(t *testing.T) {
	for _, c := range textCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseText(c.input(t))
			if c.wantErr != "" {
				var te *TextError
				if !errors.As(err, &te) {
					t.Fatalf("ParseText = %+v, %v; want a *TextError containing %q", got, err, c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %q does not contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseText: %v", err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("ParseText (-want +got):\n%s", diff)
			}
			again, err := ParseText(FormatTextAction(got))
			if err != nil {
				t.Fatalf("ParseText(FormatTextAction) of %q: %v", FormatTextAction(got), err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("round trip (-first +second):\n%s", diff)
			}
		})
	}
}

func TestFormatTextAction(t *testing.T) {
	for _, c := range []struct {
		r    TextReply
		want string
	}{
		{act("list  the\nsites", "iot.sites", `{}`), "Thought: list the sites\nAction: iot.sites\nAction Input: {}"},
		{TextReply{Action: "iot.sites"}, "Action: iot.sites\nAction Input: {}"},
		{fin("", "MAIN\nand NORTH"), "Final Answer: MAIN\nand NORTH"},
	} {
		if got := FormatTextAction(c.r); got != c.want {
			t.Errorf("FormatTextAction(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
}

func TestTextInstructions(t *testing.T) {
	tools := []llm.Tool{
		{Type: "function", Function: llm.ToolFunction{
			Name: "iot.sites", Description: "List the IoT sites.",
			Parameters: json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`),
		}},
		{Type: "function", Function: llm.ToolFunction{
			Name: "iot.history", Description: "Telemetry of an asset in the half-open window [start, end),\n oldest first.",
			Parameters: json.RawMessage(`{"type":"object","properties":{` +
				`"site_name":{"type":"string","description":"site name, e.g. MAIN"},` +
				`"asset_id":{"type":"string","description":"asset name, e.g. Chiller 6"},` +
				`"start":{"type":"string","description":"inclusive start, site-local ISO 8601"},` +
				`"sensors":{"type":["null","array"],"items":{"type":"string"},"description":"only these sensors; all when empty"},` +
				`"limit":{"type":"integer","description":"records per page (default 100)"}},` +
				`"required":["site_name","asset_id","start"],"additionalProperties":false}`),
		}},
		{Type: "function", Function: llm.ToolFunction{
			Name: "wo.recommend_work_orders", Description: "Work orders to consider for a KPI anomaly.",
			Parameters: json.RawMessage(`{"type":"object","properties":{` +
				`"kpi":{"type":"string","description":"a KPI that raised an anomaly, e.g. Efficiency"},` +
				`"anomaly_type":{"type":"string","enum":["High","Low"]},` +
				`"include_drafts":{"type":["null","boolean"]}},"required":["kpi"]}`),
		}},
	}
	got := TextInstructions(tools)
	golden := filepath.Join("testdata", "text", "instructions.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("TextInstructions (-golden +got), rerun with -update if intended:\n%s", diff)
	}
	if again := TextInstructions(tools); again != got {
		t.Error("TextInstructions is not deterministic")
	}
}

// FuzzParseText holds ParseText to its contract on any text: no panic, an
// action with a JSON object or a final answer, never both, and a canonical
// form that parses back to the same reply.
func FuzzParseText(f *testing.F) {
	for _, c := range textCases {
		f.Add(c.input(f))
	}
	f.Fuzz(func(t *testing.T, reply string) {
		r, err := ParseText(reply)
		if err != nil {
			var te *TextError
			if !errors.As(err, &te) || te.Reason == "" {
				t.Fatalf("error %v is not a *TextError", err)
			}
			return
		}
		if !json.Valid(r.Input) || len(r.Input) == 0 || r.Input[0] != '{' {
			t.Fatalf("Input %q is not a JSON object", r.Input)
		}
		if (r.Action != "") == r.HasFinal {
			t.Fatalf("want exactly one of an action and a final answer: %+v", r)
		}
		canon := FormatTextAction(r)
		again, err := ParseText(canon)
		if err != nil {
			t.Fatalf("canonical form %q: %v", canon, err)
		}
		if diff := cmp.Diff(r, again); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", reply, canon, diff)
		}
	})
}

func BenchmarkParseText(b *testing.B) {
	reply := "Thought: I need one day of telemetry for Chiller 6 to compute the supply temperature statistics.\n" +
		"Action: iot.history\n" +
		"Action Input: {\"site_name\": \"MAIN\", \"asset_id\": \"Chiller 6\", \"start\": \"2020-06-01\", \"end\": \"2020-06-02\"}\n"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseText(reply); err != nil {
			b.Fatal(err)
		}
	}
}
