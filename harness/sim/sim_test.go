package sim

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assetops/assetops/scenarios"
	"github.com/google/go-cmp/cmp"
	"github.com/ollama/ollama/api"
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	ss, err := scenarios.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(map[string]Policy{"oracle": NewOracle(ss)}))
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

const iotQuestion = "Retrieve the Chiller Efficiency readings of Chiller 9 at site MAIN from 2020-06-03T14:00:00 up to 2020-06-03T15:00:00. How many readings are there, and what is the highest one?"

func TestChatStreamingAndNot(t *testing.T) {
	srv := server(t)
	tools := `[{"type":"function","function":{"name":"iot.history","parameters":{"type":"object","properties":{}}}}]`
	body := func(stream string) string {
		return `{"model":"oracle:latest",` + stream + `"messages":[{"role":"user","content":` + quote(iotQuestion) + `}],"tools":` + tools + `}`
	}

	code, text := post(t, srv.URL+"/api/chat", body(`"stream":false,`))
	if code != 200 {
		t.Fatalf("status %d: %s", code, text)
	}
	var whole api.ChatResponse
	if err := json.Unmarshal([]byte(text), &whole); err != nil {
		t.Fatal(err)
	}

	// Streamed: NDJSON, the message first, then an empty done chunk.
	code, text = post(t, srv.URL+"/api/chat", body(""))
	if code != 200 {
		t.Fatalf("status %d: %s", code, text)
	}
	var chunks []api.ChatResponse
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var c api.ChatResponse
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("chunk %q: %v", sc.Text(), err)
		}
		chunks = append(chunks, c)
	}
	if len(chunks) != 2 || chunks[0].Done || !chunks[1].Done {
		t.Fatalf("got %d chunks %+v, want a message chunk then a done chunk", len(chunks), chunks)
	}
	if diff := cmp.Diff(quote(whole.Message.ToolCalls), quote(chunks[0].Message.ToolCalls)); diff != "" {
		t.Errorf("streamed tool calls differ (-whole +streamed):\n%s", diff)
	}
	call := whole.Message.ToolCalls[0].Function
	if call.Name != "iot.history" {
		t.Fatalf("tool call %s, want iot.history", call.Name)
	}
	if v, _ := call.Arguments.Get("asset_id"); v != "Chiller 9" {
		t.Errorf("asset_id = %v, want Chiller 9", v)
	}
}

func TestChatEdges(t *testing.T) {
	srv := server(t)
	tests := []struct {
		name, body string
		code       int
		want       string
	}{
		{"unknown model", `{"model":"gpt","messages":[]}`, 404, `model 'gpt' not found`},
		{"broken JSON", `{"model":`, 400, `"error"`},
		{"unknown question", `{"model":"oracle","stream":false,"messages":[{"role":"user","content":"hello"}]}`, 200, "no reference trajectory"},
		{"tool not offered", `{"model":"oracle","stream":false,"messages":[{"role":"user","content":` + quote(iotQuestion) + `}]}`, 200, "iot.history is not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, text := post(t, srv.URL+"/api/chat", tt.body)
			if code != tt.code || !strings.Contains(text, tt.want) {
				t.Errorf("got %d %s, want %d containing %q", code, text, tt.code, tt.want)
			}
		})
	}
}

func TestTagsShowVersion(t *testing.T) {
	srv := server(t)
	resp, err := http.Get(srv.URL + "/api/tags")
	if err != nil {
		t.Fatal(err)
	}
	var tags api.ListResponse
	if err := json.NewDecoder(resp.Body).Decode(&tags); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(tags.Models) != 1 || tags.Models[0].Name != "oracle:latest" || len(tags.Models[0].Digest) != 64 {
		t.Errorf("tags = %+v", tags)
	}
	code, text := post(t, srv.URL+"/api/show", `{"model":"oracle"}`)
	if code != 200 || !strings.Contains(text, `"assetops.reference_policy":"oracle"`) || !strings.Contains(text, `"tools"`) {
		t.Errorf("show = %d %s", code, text)
	}
	if code, _ := post(t, srv.URL+"/api/show", `{"model":"x"}`); code != 404 {
		t.Errorf("show unknown model = %d, want 404", code)
	}
	resp, err = http.Get(srv.URL + "/api/version")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), Version) {
		t.Errorf("version = %s", b)
	}
}

func TestOracleDigestFollowsTheScripts(t *testing.T) {
	ss, err := scenarios.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	a := NewOracle(ss).Fingerprint()
	if NewOracle(ss).Fingerprint() != a {
		t.Error("fingerprint is not deterministic")
	}
	changed := append([]scenarios.Scenario(nil), ss...)
	g := *changed[0].Gold
	g.Answer += " (edited)"
	changed[0].Gold = &g
	if NewOracle(changed).Fingerprint() == a {
		t.Error("fingerprint ignores a changed gold answer")
	}
}

func quote(s any) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestEmbeddingSimilarity(t *testing.T) {
	dot := func(a, b []float32) float64 {
		s := 0.0
		for i := range a {
			s += float64(a[i] * b[i])
		}
		return s
	}
	a := Embedding("Ineffective error recovery")
	near := Embedding("ineffective recovery from an error")
	far := Embedding("Chiller 9 tonnage forecast")
	if dot(a, near) <= dot(a, far) {
		t.Errorf("similarity near %.2f, far %.2f", dot(a, near), dot(a, far))
	}
	if z := Embedding("  ,; "); dot(z, z) != 0 {
		t.Error("no words should embed as the zero vector")
	}
	code, text := post(t, server(t).URL+"/api/embed", `{"model":"oracle","input":7}`)
	if code != 400 || !strings.Contains(text, "invalid input type") {
		t.Errorf("bad input: %d %s", code, text)
	}
}
