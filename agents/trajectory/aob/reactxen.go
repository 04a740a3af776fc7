package aob

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/assetops/assetops/agents/trajectory"
)

// Action names of ReActXen that are not tool calls.
const (
	finishAction = "Finish"    // ends the run; its input is the answer
	askAction    = "Agent-Ask" // a clarifying question
)

// reactDoc is a ReActXen export, the logs of an AgentHive item, or our Export.
type reactDoc struct {
	ID          text        `json:"id"`
	Task        text        `json:"task"`
	Model       text        `json:"model"`
	Agent       text        `json:"agent"`
	Protocol    text        `json:"protocol"`
	Trajectory  []reactStep `json:"trajectory"`
	FinalAnswer text        `json:"final_answer"`
	Status      text        `json:"status"`
	Error       text        `json:"error"`
	Reviews     []text      `json:"reviews"`
	Info        struct {
		ModelStats struct {
			TokensSent     json.Number `json:"tokens_sent"`
			TokensReceived json.Number `json:"tokens_received"`
			APICalls       json.Number `json:"api_calls"`
		} `json:"model_stats"`
	} `json:"info"`
}

type reactStep struct {
	Thought     text            `json:"thought"`
	Action      text            `json:"action"`
	ActionInput *text           `json:"action_input"`
	Observation json.RawMessage `json:"observation"`
	// Written by our Export only.
	Kind     text        `json:"kind"`
	Agent    *text       `json:"agent"`
	Error    *text       `json:"error"`
	PlanStep json.Number `json:"plan_step"`
}

func importReActXen(data []byte) (*trajectory.Trajectory, error) {
	var doc reactDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	tr, err := doc.run("")
	if err != nil {
		return nil, err
	}
	if tr.Agent == "" {
		tr.Agent = trajectory.StyleReAct
	}
	return tr, nil
}

// run builds the trajectory; agent is the domain agent that ran it, for the
// logs of an AgentHive item.
func (d *reactDoc) run(agent string) (*trajectory.Trajectory, error) {
	tr := &trajectory.Trajectory{
		Version:    trajectory.Version,
		ScenarioID: string(d.ID),
		Question:   strings.TrimSpace(string(d.Task)),
		Model:      string(d.Model),
		Agent:      string(d.Agent),
		Protocol:   string(d.Protocol),
		Steps:      []trajectory.Step{},
		Error:      string(d.Error),
	}
	if tr.Agent == "" {
		tr.Agent = agent
	}
	if tr.Protocol == "" {
		tr.Protocol = trajectory.ProtocolText
	}
	answer := string(d.FinalAnswer)
	for i, s := range d.Trajectory {
		tool, param := parseAction(string(s.Action))
		if s.ActionInput != nil && param == "" {
			param = string(*s.ActionInput)
		}
		if strings.EqualFold(tool, finishAction) {
			if answer == "" {
				answer = param
			}
			continue
		}
		st, err := s.step(tool, param, agent)
		if err != nil {
			return nil, fmt.Errorf("trajectory[%d]: %w", i, err)
		}
		tr.Steps = append(tr.Steps, st)
	}
	tr.FinalAnswer = answer
	tr.Status = status(answer, string(d.Status))
	for _, r := range d.Reviews {
		tr.Reviews = append(tr.Reviews, parseReview(string(r)))
	}
	ms := d.Info.ModelStats
	var ok [3]bool
	tr.Usage.PromptTokens, ok[0] = toInt(ms.TokensSent)
	tr.Usage.CompletionTokens, ok[1] = toInt(ms.TokensReceived)
	tr.Usage.Calls, ok[2] = toInt(ms.APICalls)
	if ok != [3]bool{true, true, true} {
		return nil, errors.New("info.model_stats: counts are not integers")
	}
	return tr, nil
}

func (s *reactStep) step(tool, param, agent string) (trajectory.Step, error) {
	st := trajectory.Step{Kind: trajectory.KindTool, Thought: strings.TrimSpace(string(s.Thought)), Tool: ToolName(tool)}
	var err error
	if st.Args, err = argsText(param); err != nil {
		return st, fmt.Errorf("action: %w", err)
	}
	var failed string
	if st.Observation, failed, err = output(s.Observation); err != nil {
		return st, fmt.Errorf("observation: %w", err)
	}
	st.Error = failed
	if s.Error != nil {
		st.Error = string(*s.Error)
	}
	obsText, _ := decodeString(st.Observation)
	switch kind := string(s.Kind); {
	case kind == trajectory.KindTool || kind == trajectory.KindAgent || kind == trajectory.KindAsk || kind == trajectory.KindInvalid:
		st.Kind = kind
	case strings.EqualFold(tool, askAction) || tool == trajectory.AskTool:
		st.Kind = trajectory.KindAsk
	case strings.HasPrefix(obsText, "Invalid Action"):
		st.Kind = trajectory.KindInvalid
		if st.Error == "" {
			st.Error = firstLine(obsText)
		}
	}
	if st.Kind == trajectory.KindAsk {
		// Our runs ask with {"question"} and record {"answer"}; ReActXen
		// writes both as text.
		st.Tool, agent = trajectory.AskTool, "user"
		if q, ok := decodeString(st.Args); ok {
			st.Args, err = encode(map[string]any{"question": q})
		}
		if a, ok := decodeString(st.Observation); ok && err == nil && st.Error == "" {
			st.Observation, err = encode(map[string]any{"answer": a})
		}
		if err != nil {
			return st, err
		}
	}
	switch {
	case s.Agent != nil:
		st.Agent = string(*s.Agent)
	case agentOf(st.Tool) != "":
		st.Agent = agentOf(st.Tool)
	default:
		st.Agent = agent
	}
	if s.PlanStep != "" {
		n, ok := toInt(s.PlanStep)
		if !ok {
			return st, fmt.Errorf("plan_step %s is not a step number", s.PlanStep)
		}
		st.PlanStep = n
	}
	return st, nil
}

func decodeString(raw json.RawMessage) (string, bool) {
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil
}

var (
	// ReActXen writes "Tool Name: <t> , Tool Parameter: <input>".
	actionRE = regexp.MustCompile(`(?s)^\s*Tool Name:\s*(.*?)\s*,\s*Tool Parameter:[ \t]?(.*)$`)
	// The track-1 runs leak the prompt's "Action Input 3:" into the input.
	leakedInputRE = regexp.MustCompile(`^Action Input \d+:\s*`)
)

// parseAction splits a ReActXen action into tool and input; an action in
// any other form is a tool name without input.
func parseAction(action string) (tool, param string) {
	m := actionRE.FindStringSubmatch(action)
	if m == nil {
		return strings.TrimSpace(action), ""
	}
	param = leakedInputRE.ReplaceAllString(strings.TrimSpace(m[2]), "")
	return m[1], param
}

// actionString writes an action as ReActXen does.
func actionString(tool, param string) string {
	return "Tool Name: " + tool + " , Tool Parameter: " + param
}

var reviewRE = regexp.MustCompile(`(?s)^\s*Task Status:\s*(.*?)\s*(?:\n\s*Reasoning:\s*(.*?))?\s*(?:\n\s*Suggestions for Improvement:\s*(.*?))?\s*$`)

// parseReview reads ReActXen's "Task Status: ...\nReasoning: ...\nSuggestions
// for Improvement: ..." review; other text is kept as the review's Text.
func parseReview(s string) trajectory.Review {
	m := reviewRE.FindStringSubmatch(s)
	if m == nil {
		return trajectory.Review{Text: s}
	}
	st := m[1]
	for _, known := range []string{"accomplished", "not accomplished"} {
		if strings.EqualFold(st, known) {
			st = known
		}
	}
	return trajectory.Review{Status: st, Reasoning: m[2], Suggestions: m[3]}
}

func reviewString(r trajectory.Review) string {
	if r.Status == "" && r.Text != "" {
		return r.Text
	}
	return "Task Status: " + r.Status + "\nReasoning: " + r.Reasoning + "\nSuggestions for Improvement: " + r.Suggestions + "\n"
}

// hiveDoc is the output of AgentHive's benchmark runner: the question and
// the history of the plan's tasks.
type hiveDoc struct {
	ID         text       `json:"id"`
	Text       text       `json:"text"`
	Trajectory []hiveItem `json:"trajectory"`
}

type hiveItem struct {
	TaskNumber      text            `json:"task_number"`
	TaskDescription text            `json:"task_description"`
	AgentName       text            `json:"agent_name"`
	Response        text            `json:"response"`
	Logs            json.RawMessage `json:"logs"`
}

func importAgentHive(data []byte) (*trajectory.Trajectory, error) {
	var doc hiveDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	tr := &trajectory.Trajectory{
		Version:    trajectory.Version,
		ScenarioID: string(doc.ID),
		Question:   strings.TrimSpace(string(doc.Text)),
		Agent:      trajectory.StylePlanExecute,
		Protocol:   trajectory.ProtocolText,
		Steps:      []trajectory.Step{},
	}
	var plan trajectory.Plan
	for i, it := range doc.Trajectory {
		n, err := strconv.Atoi(strings.TrimSpace(string(it.TaskNumber)))
		if err != nil || n < 1 {
			n = i + 1
		}
		agent := AgentName(string(it.AgentName))
		task := strings.TrimSpace(string(it.TaskDescription))
		// The domain agents' one argument, as the original's wrappers name it.
		a, err := encode(map[string]any{"request": task})
		if err != nil {
			return nil, err
		}
		obs, err := encode(string(it.Response))
		if err != nil {
			return nil, err
		}
		st := trajectory.Step{
			Kind:        trajectory.KindAgent,
			Agent:       agent,
			Tool:        strings.TrimSpace(string(it.AgentName)),
			Args:        a,
			Observation: obs,
			PlanStep:    n,
		}
		sub, warning, err := hiveLogs(it.Logs, agent)
		if err != nil {
			return nil, fmt.Errorf("trajectory[%d].logs: %w", i, err)
		}
		if warning != "" {
			tr.Warnings = append(tr.Warnings, fmt.Sprintf("task %d: %s", n, warning))
		}
		if sub != nil {
			// The agent's calls carry out this step of the plan.
			for j := range sub.Steps {
				sub.Steps[j].PlanStep = n
			}
			if sub.Question == "" {
				sub.Question = task
			}
			if sub.FinalAnswer == "" && it.Response != "" {
				sub.FinalAnswer = string(it.Response)
				sub.Status = trajectory.StatusAnswered
			}
			st.Sub = sub
			tr.Usage.Add(sub.Usage)
		}
		tr.Steps = append(tr.Steps, st)
		plan.Steps = append(plan.Steps, trajectory.PlanStep{N: n, Task: task, Agent: agent})
		// The judge reads the last response, or the one before when it is
		// empty; reading back to the last non-empty one does both.
		if r := strings.TrimSpace(string(it.Response)); r != "" {
			tr.FinalAnswer = string(it.Response)
		}
	}
	if len(plan.Steps) > 0 {
		tr.Plans = []trajectory.Plan{plan}
	}
	tr.Status = status(tr.FinalAnswer, "")
	return tr, nil
}

// hiveLogs reads the ReActXen log of one task, an object or a JSON string
// holding one; logs of another kind are skipped with a warning.
func hiveLogs(raw json.RawMessage, agent string) (*trajectory.Trajectory, string, error) {
	switch jsonKind(raw) {
	case 0, 'n':
		return nil, "", nil
	case '"':
		s, _ := decodeString(raw)
		if jsonKind([]byte(s)) != '{' {
			return nil, "logs are text, not a ReActXen log; skipped", nil
		}
		raw = json.RawMessage(s)
	case '{':
	default:
		return nil, fmt.Sprintf("logs are %s, not a ReActXen log; skipped", describe(raw)), nil
	}
	var doc reactDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, "", err
	}
	// The log's own "agent" key, if any, is not ours.
	doc.Agent = ""
	sub, err := doc.run(agent)
	return sub, "", err
}
