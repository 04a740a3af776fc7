package react

// The text ReAct protocol, for models without native tool calling: the tools
// are described in the system prompt, the model replies in plain text
//
//	Thought: <reasoning>
//	Action: <tool name>
//	Action Input: <JSON object>
//
// or with "Final Answer: <answer>", and the harness writes the tool's result
// back as "Observation: <result>". Small local models bend this format in
// many ways, so ParseText is tolerant; what it cannot read becomes a
// TextError whose message is meant to go back to the model as the
// observation, so that it can fix its next reply.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/assetops/assetops/agents/llm"
)

// TextInstructions is the system-prompt block of the text protocol: the
// tools numbered, each with its arguments read from its JSON schema, and the
// reply format. The output depends only on tools (their order is kept,
// arguments are sorted by name), so prompts and cassettes stay stable.
func TextInstructions(tools []llm.Tool) string {
	var b strings.Builder
	b.WriteString("You can use these tools:\n\n")
	for i, t := range tools {
		fmt.Fprintf(&b, "(%d) %s", i+1, t.Function.Name)
		if d := oneLine(t.Function.Description); d != "" {
			b.WriteString(": " + d)
		}
		b.WriteString("\n")
		args := schemaArgs(t.Function.Parameters)
		if len(args) == 0 {
			b.WriteString("    Arguments: none, use {}\n")
			continue
		}
		b.WriteString("    Arguments:\n")
		for _, a := range args {
			b.WriteString("    - " + a + "\n")
		}
	}
	b.WriteString(`
To use a tool, reply in exactly this format, then stop:

Thought: <reasoning>
Action: <one tool name from the list>
Action Input: <a JSON object with the tool's arguments>

Take one action per reply. The harness runs the tool and adds "Observation: <result>" itself; never write an Observation.

When you know the answer, reply in this format:

Thought: <reasoning>
Final Answer: <answer>
`)
	return b.String()
}

// jsonSchema is the part of a JSON schema that TextInstructions shows.
type jsonSchema struct {
	Type        json.RawMessage        `json:"type"` // a name or a list of names
	Description string                 `json:"description"`
	Properties  map[string]*jsonSchema `json:"properties"`
	Required    []string               `json:"required"`
	Enum        []json.RawMessage      `json:"enum"`
	Items       *jsonSchema            `json:"items"`
}

// schemaArgs renders each property of an object schema on one line:
// `name (type, required, one of "a" | "b"): description`. A schema that does
// not parse shows no arguments rather than failing the prompt.
func schemaArgs(raw json.RawMessage) []string {
	var s jsonSchema
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return nil
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []string
	for _, n := range names {
		p := s.Properties[n]
		if p == nil {
			p = &jsonSchema{}
		}
		attrs := []string{typeName(p)}
		if slices.Contains(s.Required, n) {
			attrs = append(attrs, "required")
		}
		if len(p.Enum) > 0 {
			vals := make([]string, len(p.Enum))
			for i, v := range p.Enum {
				vals[i] = compactJSON(v)
			}
			attrs = append(attrs, "one of "+strings.Join(vals, " | "))
		}
		line := n + " (" + strings.Join(attrs, ", ") + ")"
		if d := oneLine(p.Description); d != "" {
			line += ": " + d
		}
		out = append(out, line)
	}
	return out
}

// typeName reads "string", ["null","array"] with string items as
// "array of string": null only says the argument may be left out, which the
// required mark already tells.
func typeName(s *jsonSchema) string {
	var names []string
	var one string
	if json.Unmarshal(s.Type, &one) == nil {
		names = []string{one}
	} else {
		_ = json.Unmarshal(s.Type, &names)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == "null" })
	if len(names) == 0 {
		return "any"
	}
	for i, n := range names {
		if n == "array" && s.Items != nil {
			names[i] = "array of " + typeName(s.Items)
		}
	}
	return strings.Join(names, " or ")
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// TextReply is one model reply in the text protocol: either a tool call
// (Action and Input) or a final answer (HasFinal and Final).
type TextReply struct {
	// Thought is the reasoning before the action or answer, with its
	// whitespace collapsed to single spaces (so it fits one line of the
	// canonical form). Unlabelled text before the first label counts too.
	Thought string
	// Action is the tool name; empty for a final answer.
	Action string
	// Input is the tool's arguments: always a compact JSON object, {} when
	// the model gave none and for a final answer.
	Input json.RawMessage
	// Final is the answer, trimmed; HasFinal tells it from an action.
	Final    string
	HasFinal bool
}

// TextError is a reply that ParseText could not read. Reason is written for
// the model, which gets it as the observation of its failed step.
type TextError struct {
	Reason string
}

func (e *TextError) Error() string { return e.Reason }

const replyHint = "Reply with Thought, Action and Action Input, or with Final Answer."

var (
	errEmptyReply = &TextError{`Invalid format: the reply is empty. ` + replyHint}
	errNoLabel    = &TextError{`Invalid format: no "Action:" or "Final Answer:" line. ` + replyHint}
	errNoTool     = &TextError{`Invalid format: "Action:" names no tool. Write one tool name from the list after "Action:", or reply with Final Answer.`}
	errEmptyFinal = &TextError{`Invalid format: the Final Answer is empty. Write the answer after "Final Answer:".`}
)

func inputError(tool, detail string) error {
	return &TextError{fmt.Sprintf("Invalid Action Input for %s: %s. Action Input must be a JSON object.", tool, detail)}
}

var emptyObject = json.RawMessage("{}")

// ParseText reads one reply of the text protocol. It accepts:
//
//   - the labels Thought, Action, Action Input (also "Action input",
//     "ActionInput", "Action_Input", or "Input" right after an Action) and
//     Final Answer, in any case, numbered ("Action 2:"), with an ASCII or
//     full-width colon (or none on a line of its own), in markdown
//     emphasis ("**Action:**", "*Action*:"), indented, headed ("###") or as
//     list items, with the value on the label's line or on the next lines;
//   - an Action Input that is a JSON object on one or several lines, in
//     ``` or ```json fences, followed by other text; empty, None or null
//     mean {}; when it is not valid JSON, the repair of repairJSON is tried;
//   - the ReActXen forms "Action: tool[{...}]" and "Action: tool[text]"
//     (text becomes {"input": "text"}), and "Action: tool()" or
//     "Action: tool({...})"; a non-empty bracket wins over an Action Input;
//   - "Action: Finish[answer]", "Action: Final Answer: answer", or
//     "Action: Finish" (or "Final Answer") with the answer as Action Input
//     or on the next lines, as a final answer;
//   - tool names in backticks, quotes or emphasis, with trailing
//     punctuation; "Action: None" (or N/A, or empty) is no action, so a
//     Final Answer after it counts;
//   - a leading <think>...</think> block, which is dropped.
//
// The first Action or Final Answer decides: after an Action, its input ends
// at the next label and the rest is ignored (one action per reply); after
// Final Answer, every following line is the answer. So a reply with both is
// the one that comes first. An "Observation" line after either ends the
// reply: the harness writes observations, a model that does is making them
// up. Observation and Question sections before the first Action are skipped.
//
// A reply without an Action or Final Answer label is an error, not a final
// answer: the agent shows the error to the model, which usually recovers.
// Errors are *TextError.
func ParseText(reply string) (TextReply, error) {
	s := strings.ReplaceAll(reply, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimPrefix(s, "\ufeff")
	if strings.TrimSpace(s) == "" {
		return TextReply{}, errEmptyReply
	}
	s = stripThink(s)
	lines := strings.Split(s, "\n")
	var thought []string
	inThought := true // text before any label is reasoning too
	noTool := false
	for i := 0; i < len(lines); i++ {
		kind, val := parseLabel(lines[i])
		switch kind {
		case labelFinal:
			return finalReply(thought, val, lines[i+1:])
		case labelAction:
			rest := lines[i+1:]
			if strings.TrimSpace(val) == "" {
				// "**Action:**" with the name on the next line.
				val, rest = nextValue(rest)
			}
			if name, _, _ := splitCall(val); isNoAction(name) {
				noTool, inThought = true, false
				continue
			}
			return actionReply(thought, val, rest)
		case labelThought:
			inThought = true
			thought = append(thought, val)
		case labelNone, labelBareInput:
			if inThought {
				thought = append(thought, lines[i])
			}
		default: // Action Input, Observation or Question before any action
			inThought = false
		}
	}
	if noTool {
		return TextReply{}, errNoTool
	}
	return TextReply{}, errNoLabel
}

// stripThink drops the reasoning block that thinking models put before
// their reply when the server does not split it off; labels drafted inside
// it must not count.
func stripThink(s string) string {
	t := strings.TrimLeft(s, " \t\n")
	if len(t) < 7 || !strings.EqualFold(t[:7], "<think>") {
		return s
	}
	if _, after, ok := strings.Cut(t, "</think>"); ok {
		return after
	}
	return s
}

// nextValue returns the first non-blank line that is not a label, and the
// lines after it.
func nextValue(lines []string) (string, []string) {
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if k, _ := parseLabel(l); k != labelNone {
			break
		}
		return l, lines[i+1:]
	}
	return "", lines
}

func finalReply(thought []string, val string, rest []string) (TextReply, error) {
	parts := []string{val}
	for _, l := range rest {
		if k, _ := parseLabel(l); k == labelObservation {
			break
		}
		parts = append(parts, l)
	}
	return final(thought, strings.Join(parts, "\n"))
}

func final(thought []string, answer string) (TextReply, error) {
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return TextReply{}, errEmptyFinal
	}
	return TextReply{Thought: oneLine(strings.Join(thought, " ")), Input: emptyObject, Final: answer, HasFinal: true}, nil
}

// actionReply reads the action named in val (the Action label's value) and
// its input from the lines that follow.
func actionReply(thought []string, val string, rest []string) (TextReply, error) {
	if v, ok := finalInAction(val); ok {
		return finalReply(thought, v, rest)
	}
	name, arg, hasArg := splitCall(val)
	// Lines after the Action line up to the next label.
	j := 0
	for j < len(rest) {
		if k, _ := parseLabel(rest[j]); k != labelNone {
			break
		}
		j++
	}
	cont := strings.TrimSpace(strings.Join(rest[:j], "\n"))
	input, hasInput := "", false
	if j < len(rest) {
		if k, v := parseLabel(rest[j]); k == labelInput || k == labelBareInput {
			parts := []string{v}
			for _, l := range rest[j+1:] {
				if k, _ := parseLabel(l); k != labelNone {
					break
				}
				parts = append(parts, l)
			}
			input, hasInput = strings.Join(parts, "\n"), true
		}
	}
	if isFinish(name) {
		answer := arg
		if strings.TrimSpace(answer) == "" {
			answer = input
		}
		if !hasInput && strings.TrimSpace(answer) == "" {
			answer = cont
		}
		return final(thought, unquote(strings.TrimSpace(answer)))
	}
	if name == "" {
		return TextReply{}, errNoTool
	}
	if !hasInput && (strings.HasPrefix(cont, "{") || strings.HasPrefix(cont, "```")) {
		// The input on the lines after the Action, without its label.
		input, hasInput = cont, true
	}
	r := TextReply{Thought: oneLine(strings.Join(thought, " ")), Action: name, Input: emptyObject}
	var err error
	switch {
	case hasArg && strings.TrimSpace(arg) != "":
		r.Input, err = bracketInput(name, arg)
	case hasInput:
		r.Input, err = parseInput(name, input)
	}
	if err != nil {
		return TextReply{}, err
	}
	return r, nil
}

type labelKind int

const (
	labelNone labelKind = iota
	labelThought
	labelAction
	labelInput     // Action Input
	labelBareInput // Input: an Action Input only right after an Action
	labelFinal
	labelObservation
	labelQuestion
)

var labelWords = map[string]labelKind{
	"thought":      labelThought,
	"thoughts":     labelThought,
	"action":       labelAction,
	"actioninput":  labelInput,
	"actioninputs": labelInput,
	"input":        labelBareInput,
	"finalanswer":  labelFinal,
	"observation":  labelObservation,
	"question":     labelQuestion,
}

// parseLabel recognises a label at the start of a line and returns the rest
// of the line after its colon, untrimmed (a final answer keeps its spaces).
// Before the label it skips indentation, markdown emphasis, headings, quotes
// and bullets; after it an optional step number and closing emphasis. The
// colon may be left out when nothing else is on the line, and after
// Observation always: the line ends the reply either way.
func parseLabel(line string) (labelKind, string) {
	k, v, _ := label(line)
	return k, v
}

// label is parseLabel that also tells whether the label had its colon.
func label(line string) (kind labelKind, value string, colon bool) {
	s := strings.TrimLeft(line, " \t*_#>-")
	j := 0
	for j < len(s) && (isASCIILetter(s[j]) || s[j] == ' ' || s[j] == '_' || s[j] == '-') {
		j++
	}
	var word []byte
	for i := range j {
		if c := s[i]; isASCIILetter(c) {
			word = append(word, c|0x20) // lower case
		}
	}
	kind, ok := labelWords[string(word)]
	if !ok {
		return labelNone, "", false
	}
	if kind == labelObservation {
		return kind, "", false
	}
	rest := strings.TrimLeft(s[j:], "0123456789 \t*_")
	switch {
	case strings.HasPrefix(rest, ":"):
		rest = rest[1:]
	case strings.HasPrefix(rest, "："): // full-width colon
		rest = rest[len("："):]
	case strings.TrimSpace(rest) == "":
		// A label alone on its line, as a heading ("### Thought"); the
		// value follows on the next lines.
		return kind, "", false
	default:
		return labelNone, "", false
	}
	return kind, strings.TrimLeft(rest, "*_"), true
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// splitCall splits an Action value into the tool name and, for the forms
// tool[arg], tool() and tool({...}), the argument text. Any other
// parenthesis after the name is a comment ("iot.sites (no input)") and is
// dropped: tool names have no brackets, and a name cut this way parses the
// same the second time, which FormatTextAction relies on.
func splitCall(val string) (name, arg string, hasArg bool) {
	v := trimDecoration(val)
	i := strings.IndexAny(v, "[(")
	if i < 0 {
		return v, "", false
	}
	name, arg = trimDecoration(v[:i]), v[i+1:]
	if v[i] == '[' {
		if k := strings.LastIndexByte(arg, ']'); k >= 0 {
			arg = arg[:k]
		}
		return name, arg, true
	}
	if k := strings.LastIndexByte(arg, ')'); k >= 0 {
		arg = arg[:k]
	}
	if arg = strings.TrimSpace(arg); arg == "" || arg[0] == '{' {
		return name, arg, true
	}
	return name, "", false
}

func isDecoration(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune("`'\"*", r) }

func trimLeftDecoration(s string) string { return strings.TrimLeftFunc(s, isDecoration) }

// finalInAction reads "Action: Final Answer: ...": the answer after the
// colon. Without the colon "Final Answer" is just a name, which isFinish
// tells.
func finalInAction(val string) (string, bool) {
	k, v, colon := label(trimLeftDecoration(val))
	return v, k == labelFinal && colon
}

// trimDecoration strips the backticks, quotes and emphasis around a name and
// the punctuation after it.
func trimDecoration(s string) string {
	return strings.TrimRightFunc(trimLeftDecoration(s), func(r rune) bool {
		return isDecoration(r) || strings.ContainsRune(".,;:!?", r)
	})
}

// normWord folds a name for comparison: lower case, no spaces, _, - or /.
func normWord(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '/', '\t':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// isNoAction tells the names models write when they mean no tool.
func isNoAction(name string) bool {
	switch normWord(name) {
	case "", "none", "null", "na", "noaction", "nothing":
		return true
	}
	return false
}

// isFinish tells the action names that mean "answer now" (ReActXen's Finish).
func isFinish(name string) bool {
	switch normWord(name) {
	case "finish", "finalanswer":
		return true
	}
	return false
}

// unquote returns the text of an answer given as a JSON string, or s.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var u string
		if json.Unmarshal([]byte(s), &u) == nil {
			return u
		}
	}
	return s
}

// bracketInput reads the argument of tool[arg]: a JSON object, or any other
// text as {"input": text}, as ReActXen's single-argument tools take it.
func bracketInput(tool, arg string) (json.RawMessage, error) {
	a := strings.TrimSpace(arg)
	if strings.HasPrefix(a, "{") {
		return parseInput(tool, a)
	}
	if len(a) >= 2 && (a[0] == '"' || a[0] == '\'') && a[len(a)-1] == a[0] {
		a = strings.TrimSpace(a[1 : len(a)-1])
	}
	if isNoAction(a) {
		return emptyObject, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"input": a}); err != nil {
		return nil, inputError(tool, err.Error())
	}
	return json.RawMessage(bytes.TrimSpace(b.Bytes())), nil
}

// parseInput reads an Action Input into a compact JSON object.
func parseInput(tool, text string) (json.RawMessage, error) {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "```") {
		t = t[3:]
		k := 0
		for k < len(t) && isASCIILetter(t[k]) { // language tag
			k++
		}
		t = t[k:]
		if i := strings.Index(t, "```"); i >= 0 {
			t = t[:i]
		}
	}
	t = strings.TrimSpace(strings.TrimLeft(t, "`"))
	first, _, _ := strings.Cut(t, "\n")
	if isNoAction(strings.Trim(first, "`'\".")) || strings.HasPrefix(first, "```") {
		return emptyObject, nil
	}
	raw, err := decodeObject(t)
	if err != nil && t[0] != '{' && t[0] != '[' {
		// Some text before the object: "Here are the arguments: {...}".
		if i := strings.IndexByte(t, '{'); i > 0 {
			if r, e := decodeObject(t[i:]); e == nil {
				raw, err = r, nil
			}
		}
	}
	if err != nil {
		return nil, inputError(tool, err.Error())
	}
	return raw, nil
}

// decodeObject decodes the JSON value at the start of t, ignoring what
// follows it, and requires an object. If t is not valid JSON it tries again
// after repairJSON, but reports the first error.
func decodeObject(t string) (json.RawMessage, error) {
	raw, err := decodeFirst(t)
	if err != nil && strings.HasPrefix(t, "{") {
		if fixed, ok := repairJSON(t); ok {
			if r, e := decodeFirst(fixed); e == nil {
				raw, err = r, nil
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if raw[0] != '{' {
		return nil, fmt.Errorf("got a JSON %s", jsonKind(raw[0]))
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return json.RawMessage(b.Bytes()), nil
}

func decodeFirst(t string) (json.RawMessage, error) {
	dec := json.NewDecoder(strings.NewReader(t))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("the JSON ends before it is complete")
		}
		return nil, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("no JSON value")
	}
	return raw, nil
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// repairJSON rewrites the near-JSON that small models write, Python dicts
// above all, for a second try: 'single-quoted' strings become double-quoted
// (an apostrophe inside one is ambiguous and stays broken), a comma before a
// closing bracket is dropped, and the bare words True, False and None become
// true, false and null. It reads s up to the bracket that closes its first
// one; ok is false if there is none. Text inside double-quoted strings is
// never changed.
func repairJSON(s string) (string, bool) {
	out := make([]byte, 0, len(s)+8)
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return "", false
			}
			out = append(out, s[i:j+1]...)
			i = j
		case c == '\'':
			out = append(out, '"')
			j := i + 1
			for ; j < len(s) && s[j] != '\''; j++ {
				switch {
				case s[j] == '\\' && j+1 < len(s) && s[j+1] == '\'':
					out = append(out, '\'')
					j++
				case s[j] == '\\' && j+1 < len(s):
					out = append(out, s[j], s[j+1])
					j++
				case s[j] == '"':
					out = append(out, '\\', '"')
				default:
					out = append(out, s[j])
				}
			}
			if j >= len(s) {
				return "", false
			}
			out = append(out, '"')
			i = j
		case c == '{' || c == '[':
			depth++
			out = append(out, c)
		case c == '}' || c == ']':
			k := len(out) - 1
			for k >= 0 && strings.IndexByte(" \t\n", out[k]) >= 0 {
				k--
			}
			if k >= 0 && out[k] == ',' {
				out = append(out[:k], out[k+1:]...)
			}
			out = append(out, c)
			depth--
			if depth <= 0 {
				return string(out), true
			}
		case isASCIILetter(c):
			j := i
			for j < len(s) && isASCIILetter(s[j]) {
				j++
			}
			w := s[i:j]
			switch w {
			case "True":
				w = "true"
			case "False":
				w = "false"
			case "None":
				w = "null"
			}
			out = append(out, w...)
			i = j - 1
		default:
			out = append(out, c)
		}
	}
	return "", false
}

// FormatTextAction writes r in the canonical form of the protocol, as the
// assistant turn of the conversation. For every r that ParseText returns,
// ParseText(FormatTextAction(r)) returns r again; a Thought that did not come
// from ParseText comes back with its whitespace collapsed.
func FormatTextAction(r TextReply) string {
	var b strings.Builder
	if t := oneLine(r.Thought); t != "" {
		b.WriteString("Thought: " + t + "\n")
	}
	if r.HasFinal {
		b.WriteString("Final Answer: " + r.Final)
		return b.String()
	}
	input := r.Input
	if len(bytes.TrimSpace(input)) == 0 {
		input = emptyObject
	}
	b.WriteString("Action: " + r.Action + "\nAction Input: " + string(input))
	return b.String()
}
