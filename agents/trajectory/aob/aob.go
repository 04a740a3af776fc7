// Package aob moves trajectories between this harness and IBM's
// AssetOpsBench, so that runs of the original, of its competition entries and
// of other agent harnesses can be scored here, and ours read there.
//
// Export writes the original's ReActXen shape:
//
//	{"task", "trajectory": [{"thought", "action", "observation"}], "final_answer"}
//
// with the action written as ReActXen writes it, "Tool Name: <tool> , Tool
// Parameter: <input>", a closing Finish action, the reviews as ReActXen's
// "Task Status: ..." strings and the usage as info.model_stats. A few keys the
// original does not read (id, model, agent, protocol, status, error and, per
// step, kind, agent, error, plan_step) make the export lossless enough to read
// back. Runs of domain agents are flattened into the tool calls they made.
//
// Import reads one file in any of these shapes, or a JSON array of them (and
// our own trajectory JSON, versions 1 and 2):
//
//  1. ReActXen, and our Export: {task, trajectory: [{thought, action,
//     observation}], final_answer}. Finish actions end the run and are not
//     steps; "Agent-Ask" is a clarifying question, whose text question and
//     answer become our {"question"} and {"answer"}; an observation starting
//     "Invalid Action" marks an action that could not be run.
//  2. AgentHive plan-execute, as the competition's track-1 runs wrote it:
//     {id, text, runtime, trajectory: [{task_number, task_description,
//     agent_name, response, logs}]}. Each item is a domain-agent step whose
//     Sub is the ReActXen log in logs; the items also make the plan.
//  3. The evaluator's persisted trajectories: {run_id, scenario_id, runner,
//     model, question, answer, trajectory: {turns: [{text, tool_calls: [{name,
//     input, output}]}]}}, from the claude-agent, codex-agent and openai-agent
//     harnesses.
//  4. The evaluator's measurement records: {run_id, scenario_id, settings,
//     grading, metrics: {tool_calls: [{name, server, arguments, output,
//     error}], ...}, status}. ReadMeasurement also returns the record's own
//     counts and the judge's verdict.
//
// Tool outputs are unwrapped to the tool's own result: a JSON string holding
// JSON, MCP's {content: [{type, text}], structured_content |
// structuredContent: {result}} and the bare {type, text} block all give the
// result's JSON, and {"result": x} gives x. Text that is not JSON stays a
// JSON string. All JSON is re-encoded compactly with sorted keys, raw UTF-8
// and numbers as written, so the same payload compares equal whichever
// harness wrote it. A step failed when the record says so (an error object
// {type, message} or string), or else when its output does: isError, an
// object with an "error" string, or text starting "Error executing tool" or
// "Error encountered".
//
// Tool names follow ToolName: "mcp__<server>__<tool>" becomes our
// "<server>.<tool>"; other names stay as written, and a bare name is
// qualified by the call's server field when the record has one.
package aob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/assetops/assetops/agents/trajectory"
)

// Import reads one file's bytes in any supported shape and returns the
// trajectories it holds: one per object, several for a JSON array of them.
// name says which file it was in errors.
func Import(data []byte, name string) ([]*trajectory.Trajectory, error) {
	trs, err := importAny(data)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", name, err)
	}
	return trs, nil
}

func importAny(data []byte) ([]*trajectory.Trajectory, error) {
	switch kind := jsonKind(data); kind {
	case '{':
		tr, err := importObject(data)
		if err != nil {
			return nil, err
		}
		return []*trajectory.Trajectory{tr}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, errors.New("empty list: no trajectories")
		}
		trs := make([]*trajectory.Trajectory, 0, len(items))
		for i, it := range items {
			if jsonKind(it) != '{' {
				return nil, fmt.Errorf("item %d: %s, want an object", i, describe(it))
			}
			tr, err := importObject(it)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			trs = append(trs, tr)
		}
		return trs, nil
	case 0:
		return nil, errors.New("empty input")
	default:
		if !json.Valid(data) {
			// Let the decoder say where the syntax breaks.
			var v any
			return nil, json.Unmarshal(data, &v)
		}
		return nil, fmt.Errorf("%s, want an object or a list of objects", describe(data))
	}
}

func importObject(data []byte) (*trajectory.Trajectory, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, err
	}
	switch {
	case has(keys, "version") && has(keys, "steps") && has(keys, "question"):
		// Our own trajectory JSON, so one reader takes every shape.
		var tr trajectory.Trajectory
		if err := json.Unmarshal(data, &tr); err != nil {
			return nil, err
		}
		if tr.Version < 1 || tr.Version > trajectory.Version {
			return nil, fmt.Errorf("trajectory version %d, this build reads 1 to %d", tr.Version, trajectory.Version)
		}
		return &tr, nil
	case has(keys, "metrics") && (has(keys, "run_id") || has(keys, "grading")):
		m, err := readMeasurement(data)
		if err != nil {
			return nil, err
		}
		return m.Trajectory, nil
	case has(keys, "runner") || has(keys, "run_id") || jsonKind(keys["trajectory"]) == '{':
		return importEvaluator(data)
	case isAgentHive(keys):
		return importAgentHive(data)
	case has(keys, "task") || has(keys, "trajectory"):
		return importReActXen(data)
	}
	return nil, errors.New("unknown shape: want a ReActXen, AgentHive, evaluator trajectory or measurement record")
}

func has(keys map[string]json.RawMessage, k string) bool {
	_, ok := keys[k]
	return ok
}

// isAgentHive tells a plan-execute history from a ReActXen trajectory: its
// question is "text", and its items name the agent that ran each task.
func isAgentHive(keys map[string]json.RawMessage) bool {
	if has(keys, "task") {
		return false
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(keys["trajectory"], &items) == nil && len(items) > 0 {
		return has(items[0], "agent_name") || has(items[0], "task_number")
	}
	return has(keys, "text")
}

// ToolName maps a tool name as a harness recorded it to ours,
// "<agent>.<tool>". The Claude Agent SDK, and the evaluator for every
// harness's trajectories, name MCP tools "mcp__<server>__<tool>"; that
// becomes "<server>.<tool>" (the server is the first "__"-separated part, so
// the tool keeps any "__" of its own). Every other name, bare ("sites") or
// already ours ("iot.sites"), stays as written, trimmed.
func ToolName(raw string) string {
	name := strings.TrimSpace(raw)
	// A loop, so that no result starts with the prefix, however odd the input.
	for {
		rest, ok := strings.CutPrefix(name, "mcp__")
		if !ok {
			return name
		}
		server, tool, ok := strings.Cut(rest, "__")
		switch {
		case !ok:
			name = rest
		case server == "":
			name = tool
		case tool == "":
			return server
		default:
			return server + "." + tool
		}
	}
}

// qualify names a bare tool by the server that ran it, when the record says.
func qualify(name, server string) string {
	name = ToolName(name)
	server = strings.TrimSpace(server)
	if server == "" || name == "" || strings.Contains(name, ".") {
		return name
	}
	return server + "." + name
}

// agentOf is the agent part of one of our tool names; bare names have none.
func agentOf(tool string) string {
	agent, _, ok := strings.Cut(tool, ".")
	if !ok {
		return ""
	}
	return agent
}

// AgentName maps the original's names of domain agents to ours: "IoT Data
// Download" and "IoTAgent" are iot; "Failure Mode and Sensor Relevancy Expert
// for Industrial Asset" and "FMSRAgent" fmsr; "Time Series Analytics and
// Forecasting" and "TSFMAgent" tsfm; work-order agents wo; summarisation
// agents "summarize". Other names are lower-cased, with runs of other
// characters as "_".
func AgentName(raw string) string {
	lower := strings.ToLower(strings.TrimSpace(raw))
	words := strings.FieldsFunc(lower, func(r rune) bool { return !isWordRune(r) })
	joined := strings.Join(words, " ")
	hasWord := func(ws ...string) bool {
		for _, w := range words {
			for _, x := range ws {
				if w == x {
					return true
				}
			}
		}
		return false
	}
	switch {
	case hasWord("iot", "iotagent"):
		return "iot"
	case strings.Contains(joined, "failure mode") || hasWord("fmsr", "fmsragent"):
		return "fmsr"
	case strings.Contains(joined, "time series") || hasWord("tsfm", "tsfmagent"):
		return "tsfm"
	case strings.Contains(joined, "work order") || hasWord("wo", "woagent", "workorder", "workorderagent"):
		return "wo"
	case strings.HasPrefix(joined, "summar"):
		return "summarize"
	}
	return strings.Join(words, "_")
}

func isWordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127
}

// status is how a run ended, from its answer and what its record says.
func status(answer, recorded string) string {
	switch recorded {
	case trajectory.StatusAnswered, trajectory.StatusStepLimit, trajectory.StatusLoop, trajectory.StatusError:
		return recorded
	}
	if strings.TrimSpace(answer) != "" {
		return trajectory.StatusAnswered
	}
	return trajectory.StatusStepLimit
}

// text reads a JSON string. null reads as "", and any other value as its
// JSON text, because other systems write numbers (ids) or objects (answers)
// where the original wrote strings.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = text(s)
		return nil
	}
	c, err := canonical(b)
	if err != nil {
		return err
	}
	*t = text(c)
	return nil
}

// canonical re-encodes one JSON value compactly, with sorted object keys, raw
// UTF-8 and numbers as written.
func canonical(b []byte) (json.RawMessage, error) {
	v, err := decode(b)
	if err != nil {
		return nil, err
	}
	return encode(v)
}

// decode reads exactly one JSON value, keeping numbers as written.
func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func encode(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// fromText reads a string that holds a JSON object or list as that value;
// other strings, scalars among them, stay strings.
func fromText(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if t == "" || t[0] != '{' && t[0] != '[' {
		return v
	}
	p, err := decode([]byte(t))
	if err != nil {
		return v
	}
	return p
}

// args reads a tool call's arguments: a string holding JSON is that JSON,
// other strings stay strings, and missing arguments are {} as in our runs.
func args(raw json.RawMessage) (json.RawMessage, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return json.RawMessage("{}"), nil
	}
	v, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
		return json.RawMessage("{}"), nil
	}
	return encode(fromText(v))
}

// argsText reads a ReActXen tool parameter, which is text.
func argsText(s string) (json.RawMessage, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return args(b)
}

// output unwraps a tool output as a harness recorded it (see the package
// comment) and says why the call failed, when the output says it did.
func output(raw json.RawMessage) (json.RawMessage, string, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return json.RawMessage("null"), "", nil
	}
	v, err := decode(raw)
	if err != nil {
		return nil, "", err
	}
	v, failed := unwrap(v)
	if failed == "" {
		failed = failure(v)
	}
	obs, err := encode(v)
	return obs, failed, err
}

// unwrap takes off the wrappers harnesses put around a tool's result, in the
// order they nest: a JSON string (Claude), an MCP call result (Codex, the
// OpenAI Agents SDK) or a bare text block (the evaluator's GLM trajectories),
// then FastMCP's {"result": x}.
func unwrap(v any) (any, string) {
	var failed string
	v = fromText(v)
	if m, ok := v.(map[string]any); ok {
		switch {
		case isCallResult(m):
			if isErr, _ := m["isError"].(bool); isErr {
				failed = firstLine(contentText(m["content"]))
				if failed == "" {
					failed = "the tool reported an error"
				}
			}
			if sc := structured(m); sc != nil {
				v = sc
			} else {
				v = fromText(contentText(m["content"]))
			}
		case isTextBlock(m):
			v = fromText(m["text"])
		}
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if r, ok := m["result"]; ok {
			v = r
		}
	}
	return v, failed
}

// isCallResult tells an MCP CallToolResult from a tool result that merely
// has a "content" key: nothing but the result's own keys, and a content
// list of typed blocks.
func isCallResult(m map[string]any) bool {
	for k := range m {
		switch k {
		case "content", "structured_content", "structuredContent", "isError", "meta", "_meta":
		default:
			return false
		}
	}
	blocks, ok := m["content"].([]any)
	if !ok {
		return structured(m) != nil
	}
	for _, b := range blocks {
		bm, ok := b.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := bm["type"].(string); !ok {
			return false
		}
	}
	return true
}

func structured(m map[string]any) any {
	if sc, ok := m["structured_content"]; ok && sc != nil {
		return sc
	}
	if sc, ok := m["structuredContent"]; ok && sc != nil {
		return sc
	}
	return nil
}

func isTextBlock(m map[string]any) bool {
	if m["type"] != "text" {
		return false
	}
	if _, ok := m["text"].(string); !ok {
		return false
	}
	for k := range m {
		switch k {
		case "type", "text", "annotations", "meta", "_meta":
		default:
			return false
		}
	}
	return true
}

// contentText joins the text blocks of an MCP content list.
func contentText(content any) string {
	blocks, _ := content.([]any)
	var parts []string
	for _, b := range blocks {
		bm, _ := b.(map[string]any)
		if s, ok := bm["text"].(string); ok && bm["type"] == "text" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

// failure says why a call failed when only its result tells: tools of the
// original and of ours answer {"error": "..."}, the MCP SDK's error text
// starts "Error executing tool", ReActXen's "Error encountered".
func failure(v any) string {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["error"].(string); ok {
			return firstLine(s)
		}
	case string:
		t := strings.TrimSpace(x)
		if strings.HasPrefix(t, "Error executing tool") || strings.HasPrefix(t, "Error encountered") {
			return firstLine(t)
		}
	}
	return ""
}

// recordedError reads the error a harness recorded for a call: null, a
// string, or {"type", "message"}.
func recordedError(raw json.RawMessage) (string, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return firstLine(s), nil
	}
	var e struct {
		Type    text `json:"type"`
		Message text `json:"message"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return "", fmt.Errorf("error: %w", err)
	}
	if e.Message != "" {
		return firstLine(string(e.Message)), nil
	}
	if e.Type != "" {
		return string(e.Type), nil
	}
	return "the tool failed", nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// jsonKind is the first character of a JSON value, 0 for blank input.
func jsonKind(b []byte) byte {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

// describe names the kind of a JSON value for errors.
func describe(b []byte) string {
	switch k := jsonKind(b); {
	case k == 0:
		return "nothing"
	case k == '{':
		return "an object"
	case k == '[':
		return "a list"
	case k == '"':
		return "a string"
	case k == 't' || k == 'f':
		return "a boolean"
	case k == 'n':
		return "null"
	default:
		return "a number"
	}
}

// toInt reads a JSON number that should be a count; Python writes counts
// as ints, but a float with an integral value is a count too.
func toInt(n json.Number) (int, bool) {
	if n == "" {
		return 0, true
	}
	if i, err := n.Int64(); err == nil && int64(int(i)) == i {
		return int(i), true
	}
	f, err := n.Float64()
	if err != nil || f != float64(int64(f)) || f > 1<<53 || f < -(1<<53) {
		return 0, false
	}
	return int(f), true
}
