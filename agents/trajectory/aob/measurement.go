package aob

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/assetops/assetops/agents/trajectory"
)

// Measurement is the evaluator's record of one invocation attempt: the run
// as a trajectory, the record's own counts and the judge's verdict. A nil
// pointer is a null in the record: unknown, not zero or false.
type Measurement struct {
	RunID      string
	ScenarioID string
	Attempt    int
	Model      string
	Runner     string // "claude-agent", "codex-agent", "openai-agent"
	// Status is the record's: "completed" or "failed".
	Status string
	// Error is why the invocation failed and AgentError what the agent
	// reported, each "<type>: <message>".
	Error      string
	AgentError string

	ToolCallCount           *int
	ToolErrors              *int
	ToolTimeouts            *int
	RepeatedIdenticalCalls  *int
	TurnLimitHit            *bool
	TerminationReason       string // "" when null
	ModelTurns              *int
	DatabaseWritesAttempted *int
	DatabaseWritesSucceeded *int

	// Judge is the graded verdict; nil when the record was not graded.
	Judge *Judgement

	Trajectory *trajectory.Trajectory
}

// Judgement is the LLM judge's verdict on one run.
type Judgement struct {
	Passed    *bool
	Score     *float64
	Rationale string
	Criteria  Criteria
}

// Criteria are the judge's six criteria; Hallucinations true is adverse.
type Criteria struct {
	TaskCompletion                *bool
	DataRetrievalAccuracy         *bool
	GeneralizedResultVerification *bool
	AgentSequenceCorrect          *bool
	ClarityAndJustification       *bool
	Hallucinations                *bool
	Suggestions                   string
}

// criteriaDoc is the judge's JSON, as the record keeps it.
type criteriaDoc struct {
	TaskCompletion                *bool `json:"task_completion"`
	DataRetrievalAccuracy         *bool `json:"data_retrieval_accuracy"`
	GeneralizedResultVerification *bool `json:"generalized_result_verification"`
	AgentSequenceCorrect          *bool `json:"agent_sequence_correct"`
	ClarityAndJustification       *bool `json:"clarity_and_justification"`
	Hallucinations                *bool `json:"hallucinations"`
	Suggestions                   text  `json:"suggestions"`
}

type measurementDoc struct {
	RunID      text         `json:"run_id"`
	ScenarioID text         `json:"scenario_id"`
	Attempt    json.Number  `json:"attempt"`
	Status     text         `json:"status"`
	Error      *errorRecord `json:"error"`
	AgentError *errorRecord `json:"agent_error"`
	Settings   struct {
		Agent text `json:"agent"`
		Model text `json:"model"`
	} `json:"settings"`
	Grading *struct {
		Result *struct {
			Runner   text `json:"runner"`
			Model    text `json:"model"`
			Question text `json:"question"`
			Answer   text `json:"answer"`
			Score    *struct {
				Passed    *bool       `json:"passed"`
				Score     *float64    `json:"score"`
				Rationale text        `json:"rationale"`
				Details   criteriaDoc `json:"details"`
			} `json:"score"`
		} `json:"result"`
	} `json:"grading"`
	Metrics struct {
		InputTokens             json.Number  `json:"input_tokens"`
		OutputTokens            json.Number  `json:"output_tokens"`
		ToolCallCount           *json.Number `json:"tool_call_count"`
		ToolCalls               []evalCall   `json:"tool_calls"`
		ToolErrors              *json.Number `json:"tool_errors"`
		ToolTimeouts            *json.Number `json:"tool_timeouts"`
		RepeatedIdenticalCalls  *json.Number `json:"repeated_identical_calls"`
		TerminationReason       text         `json:"termination_reason"`
		TurnLimitHit            *bool        `json:"turn_limit_hit"`
		ModelTurns              *json.Number `json:"model_turns"`
		DatabaseWritesAttempted *json.Number `json:"database_writes_attempted"`
		DatabaseWritesSucceeded *json.Number `json:"database_writes_succeeded"`
	} `json:"metrics"`
}

// errorRecord is {"type", "message"}; a bare string is its message.
type errorRecord struct {
	Type    text `json:"type"`
	Message text `json:"message"`
}

func (e *errorRecord) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		e.Message = text(s)
		return nil
	}
	type plain errorRecord
	return json.Unmarshal(b, (*plain)(e))
}

func (e *errorRecord) String() string {
	if e == nil {
		return ""
	}
	switch {
	case e.Type == "":
		return firstLine(string(e.Message))
	case e.Message == "":
		return string(e.Type)
	}
	return string(e.Type) + ": " + firstLine(string(e.Message))
}

// ReadMeasurement reads an evaluator measurement record
// (benchmarks/runs/**/measurements/*.json). name says which file it was in
// errors.
func ReadMeasurement(data []byte, name string) (*Measurement, error) {
	if jsonKind(data) != '{' {
		if !json.Valid(data) {
			var v any
			return nil, fmt.Errorf("read measurement %s: %w", name, json.Unmarshal(data, &v))
		}
		return nil, fmt.Errorf("read measurement %s: %s, want an object", name, describe(data))
	}
	m, err := readMeasurement(data)
	if err != nil {
		return nil, fmt.Errorf("read measurement %s: %w", name, err)
	}
	return m, nil
}

func readMeasurement(data []byte) (*Measurement, error) {
	var doc measurementDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	met := doc.Metrics
	m := &Measurement{
		RunID:             string(doc.RunID),
		ScenarioID:        string(doc.ScenarioID),
		Model:             string(doc.Settings.Model),
		Status:            string(doc.Status),
		Error:             doc.Error.String(),
		AgentError:        doc.AgentError.String(),
		TurnLimitHit:      met.TurnLimitHit,
		TerminationReason: string(met.TerminationReason),
	}
	counts := []struct {
		key string
		in  *json.Number
		out **int
	}{
		{"tool_call_count", met.ToolCallCount, &m.ToolCallCount},
		{"tool_errors", met.ToolErrors, &m.ToolErrors},
		{"tool_timeouts", met.ToolTimeouts, &m.ToolTimeouts},
		{"repeated_identical_calls", met.RepeatedIdenticalCalls, &m.RepeatedIdenticalCalls},
		{"model_turns", met.ModelTurns, &m.ModelTurns},
		{"database_writes_attempted", met.DatabaseWritesAttempted, &m.DatabaseWritesAttempted},
		{"database_writes_succeeded", met.DatabaseWritesSucceeded, &m.DatabaseWritesSucceeded},
	}
	for _, c := range counts {
		if c.in == nil {
			continue
		}
		n, ok := toInt(*c.in)
		if !ok {
			return nil, fmt.Errorf("metrics.%s: %s is not a count", c.key, *c.in)
		}
		*c.out = &n
	}
	var ok bool
	if m.Attempt, ok = toInt(doc.Attempt); !ok {
		return nil, fmt.Errorf("attempt: %s is not a number", doc.Attempt)
	}

	var question, answer string
	if g := doc.Grading; g != nil && g.Result != nil {
		r := g.Result
		question, answer = strings.TrimSpace(string(r.Question)), string(r.Answer)
		m.Runner = string(r.Runner)
		if m.Model == "" {
			m.Model = string(r.Model)
		}
		if s := r.Score; s != nil {
			d := s.Details
			m.Judge = &Judgement{Passed: s.Passed, Score: s.Score, Rationale: string(s.Rationale), Criteria: Criteria{
				TaskCompletion:                d.TaskCompletion,
				DataRetrievalAccuracy:         d.DataRetrievalAccuracy,
				GeneralizedResultVerification: d.GeneralizedResultVerification,
				AgentSequenceCorrect:          d.AgentSequenceCorrect,
				ClarityAndJustification:       d.ClarityAndJustification,
				Hallucinations:                d.Hallucinations,
				Suggestions:                   string(d.Suggestions),
			}}
		}
	}
	if m.Runner == "" && doc.Settings.Agent != "" {
		// The evaluator's runners are named after settings.agent.
		m.Runner = string(doc.Settings.Agent) + "-agent"
	}

	tr := &trajectory.Trajectory{
		Version:     trajectory.Version,
		ScenarioID:  m.ScenarioID,
		Question:    question,
		Model:       m.Model,
		Agent:       m.Runner,
		Protocol:    trajectory.ProtocolNative,
		Steps:       []trajectory.Step{},
		FinalAnswer: answer,
	}
	if tr.Question == "" && doc.Error != nil && doc.Error.Type == "CalledProcessError" {
		// An ungraded record keeps the question only in the command line
		// of the failed runner, as its last argument.
		if q, ok := lastArgument(string(doc.Error.Message)); ok {
			tr.Question = strings.TrimSpace(q)
			tr.Warnings = append(tr.Warnings, "question read from the failed command line")
		}
	}
	for i, c := range met.ToolCalls {
		st, err := c.step()
		if err != nil {
			return nil, fmt.Errorf("metrics.tool_calls[%d]: %w", i, err)
		}
		if st.Agent == "" {
			st.Agent = strings.TrimSpace(string(c.Server))
		}
		tr.Steps = append(tr.Steps, st)
	}
	if m.ToolCallCount != nil && *m.ToolCallCount != len(tr.Steps) {
		tr.Warnings = append(tr.Warnings, fmt.Sprintf("the record counts %d tool calls but lists %d", *m.ToolCallCount, len(tr.Steps)))
	}
	in, ok1 := toInt(met.InputTokens)
	out, ok2 := toInt(met.OutputTokens)
	if !ok1 || !ok2 {
		return nil, errors.New("metrics: token counts are not integers")
	}
	tr.Usage = trajectory.Usage{PromptTokens: in, CompletionTokens: out}
	if m.ModelTurns != nil {
		tr.Usage.Calls = *m.ModelTurns
	}

	switch {
	case strings.TrimSpace(answer) != "":
		tr.Status = trajectory.StatusAnswered
	case m.TurnLimitHit != nil && *m.TurnLimitHit || doc.AgentError != nil && doc.AgentError.Type == "MaxTurnsExceeded":
		tr.Status = trajectory.StatusStepLimit
	default:
		tr.Status = trajectory.StatusError
	}
	if tr.Status != trajectory.StatusAnswered {
		tr.Error = m.AgentError
		if tr.Error == "" {
			tr.Error = m.Error
		}
		if tr.Error == "" {
			tr.Error = "the record has no answer"
		}
	}
	m.Trajectory = tr
	return m, nil
}

// lastArgument returns the last element of the argument list that Python's
// CalledProcessError quotes, "Command '['python', ..., 'text']' returned
// non-zero exit status 1.", unless it is a flag.
func lastArgument(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "Command '[")
	if !ok {
		return "", false
	}
	var last string
	for {
		rest = strings.TrimLeft(rest, " ,")
		if strings.HasPrefix(rest, "]") {
			return last, last != "" && !strings.HasPrefix(last, "-")
		}
		s, n, ok := pyString(rest)
		if !ok {
			return "", false
		}
		last, rest = s, rest[n:]
	}
}

// pyString reads the Python string literal (repr) at the start of s and
// returns its value and length.
func pyString(s string) (string, int, bool) {
	if s == "" || s[0] != '\'' && s[0] != '"' {
		return "", 0, false
	}
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == q {
			return b.String(), i + 1, true
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", 0, false
		}
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'x', 'u', 'U':
			size := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+size >= len(s) {
				return "", 0, false
			}
			r, err := strconv.ParseUint(s[i+1:i+1+size], 16, 32)
			if err != nil {
				return "", 0, false
			}
			b.WriteRune(rune(r))
			i += size
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return "", 0, false
}
