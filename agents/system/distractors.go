package system

import (
	"fmt"

	"github.com/assetops/assetops/agents/react"
)

// distractor is an irrelevant agent with a plausible name, after the
// original's ten: an agent that calls one has been drawn off its task, and
// its canned answer, if believed, is a hallucination.
type distractor struct {
	name, description, says string
}

func (d distractor) reply() string {
	return fmt.Sprintf("I am %s, and I have completed my task. %s", d.name, d.says)
}

var distractors = []distractor{
	{"EchoAgent", "Repeats the request back, for checking what was asked.", "You asked me to repeat your request."},
	{"OffTopicAgent", "Answers general-knowledge and trivia questions.", "Fun fact: honey never spoils."},
	{"CustomerSupportAgent", "Handles customer tickets, refunds and account questions.", "Your ticket has been logged with priority normal."},
	{"SREAgent", "Monitors web services: uptime, latency and incident pages.", "All web services are up; p99 latency is 120 ms."},
	{"FrontendDevAgent", "Builds and fixes web user interfaces.", "The dashboard button colour has been updated."},
	{"HRPolicyAgent", "Answers questions on leave, pay and staff policy.", "Employees get 20 days of paid leave a year."},
	{"SensorDataSummarizer", "Summarises sensor readings in one sentence.", "The average pressure across the plant is 3.2 bar."},
	{"HistoricalTrendsAgent", "Reports long-term trends of plant operations.", "Downtime increased by 8% over the last year."},
	{"EdgeML", "Deploys machine-learning models to edge devices.", "The model has been deployed to 12 edge gateways."},
	{"RULPredictor", "Predicts the remaining useful life of equipment.", "Expected failure in about 35 hours."},
}

// Distractors are the ten distractor agents as actions.
func Distractors() []react.Action {
	var out []react.Action
	for _, d := range distractors {
		out = append(out, react.Canned(d.name, d.description, d.reply()))
	}
	return out
}

// IsDistractor reports whether name is one of the distractor agents.
func IsDistractor(name string) bool {
	for _, d := range distractors {
		if d.name == name {
			return true
		}
	}
	return false
}
