package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/assetops/assetops/agents/agentstest"
	"github.com/assetops/assetops/scenarios"
)

// A scenario that does not hold against the dataset is reported with what
// is wrong, all of it.
func TestValidateGold(t *testing.T) {
	reg := agentstest.Registry(t)
	base := `"id":"v","type":"IoT","category":"Data Query","characteristic_form":"f","text":"Which sites are there?"`
	tests := []struct {
		name, line string
		want       []string // substrings of the error; none: valid
	}{
		{"valid", `{` + base + `,"expect":{"calls":[{"tool":"iot.sites"}],"facts":[{"name":"site","text":"MAIN"}]},"gold":{"steps":[{"tool":"iot.sites","args":{}}],"answer":"The site is MAIN."}}`, nil},
		{"unknown asset", `{` + base + `,"expect":{"calls":[{"tool":"iot.sensors"}],"facts":[]},"gold":{"steps":[{"tool":"iot.sensors","args":{"site_name":"MAIN","asset_id":"Chiller 99"}}],"answer":"x"}}`, []string{"gold step 1 iot.sensors", "Chiller 99"}},
		{"fact not in any result", `{` + base + `,"expect":{"calls":[{"tool":"iot.sites"}],"facts":[{"name":"site","text":"NORTH"}]},"gold":{"steps":[{"tool":"iot.sites","args":{}}],"answer":"The sites are MAIN and NORTH."}}`, []string{"fails the rules judge", "NORTH"}},
		{"ask without clarifications", `{` + base + `,"expect":{"calls":[],"facts":[]},"gold":{"steps":[{"tool":"ask_user","args":{"question":"Which?"}}],"answer":"x"}}`, []string{"no clarifications"}},
		{"no gold", `{` + base + `}`, []string{"needs expectations and a gold trajectory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, err := scenarios.Parse("v.jsonl", []byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			err = ValidateGold(context.Background(), reg, ss[0])
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("valid scenario: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
