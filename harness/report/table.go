// Package report prints runs as tables.
package report

import (
	"fmt"
	"io"

	"github.com/assetops/assetops/harness/result"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Table writes one row a scenario: the model, the agent system and its
// options, the six criteria, τ-match and
// pass, with a footer of totals per run.
func Table(w io.Writer, runs ...*result.Run) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("model", "agent", "scenario", "task completion", "data retrieval", "result verification",
		"agent sequence", "clarity", "hallucination", "τ", "pass")
	var crit [6]int
	judged, passed, withTau := 0, 0, 0
	tauSum := 0.0
	for _, run := range runs {
		for _, rec := range run.Records {
			row := []string{run.Model.Label(), run.Setup(), rec.ScenarioID}
			if v := rec.Verdict; v != nil {
				judged++
				c := v.Criteria
				for i, ok := range []bool{c.TaskCompletion, c.DataRetrievalAccuracy, c.GeneralizedResultVerification,
					c.AgentSequenceCorrect, c.ClarityAndJustification, !c.Hallucinations} {
					if ok {
						crit[i]++
					}
				}
				if v.Pass {
					passed++
				}
				row = append(row, yes(c.TaskCompletion), yes(c.DataRetrievalAccuracy), yes(c.GeneralizedResultVerification),
					yes(c.AgentSequenceCorrect), yes(c.ClarityAndJustification), yes(c.Hallucinations))
			} else {
				row = append(row, "–", "–", "–", "–", "–", "–")
			}
			if rec.Tau != nil {
				withTau++
				tauSum += *rec.Tau
				row = append(row, fmt.Sprintf("%.2f", *rec.Tau))
			} else {
				row = append(row, "–")
			}
			if rec.Verdict != nil {
				row = append(row, yes(rec.Verdict.Pass))
			} else {
				row = append(row, "–")
			}
			if err := t.Append(row); err != nil {
				return err
			}
		}
	}
	footer := []string{"", "", "all"}
	for i, n := range crit {
		if i == 5 {
			// Hallucination counts runs that had one.
			n = judged - n
		}
		footer = append(footer, fmt.Sprintf("%d/%d", n, judged))
	}
	meanTau := "–"
	if withTau > 0 {
		meanTau = fmt.Sprintf("%.2f", tauSum/float64(withTau))
	}
	footer = append(footer, meanTau, fmt.Sprintf("%d/%d", passed, judged))
	t.Footer(footer)
	return t.Render()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Caption explains rows that are not a model's results.
func Caption(runs ...*result.Run) string {
	for _, r := range runs {
		if r.Model.ReferencePolicy != "" {
			return "Rows marked \"simulated reference policy\" come from a scripted player in the Ollama-protocol simulator:\n" +
				"they check the harness and are not the results of a model.\n"
		}
	}
	return ""
}
