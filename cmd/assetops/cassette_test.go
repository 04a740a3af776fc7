package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/assetops/assetops/harness/cassette"
	"github.com/assetops/assetops/harness/sim"
	"github.com/assetops/assetops/scenarios"
)

// replayedDB is a Badger store in which `run` replayed iot-01 from the
// embedded reference cassettes: it holds every reference entry, and its
// last run used only a few of them.
func replayedDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	code, _, errs := runMain(t, "run", "--cassette-db", db, "--only", "iot-01", "--out", filepath.Join(dir, "result.json"))
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	return db
}

// storeState reads a store directly: its entries and its last run. It
// closes the store, as every command must, or Badger's lock would stop the
// next one.
func storeState(t *testing.T, db string) ([]cassette.Entry, cassette.Stats) {
	t.Helper()
	s, err := cassette.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries, err := s.All()
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := s.LastRun()
	if err != nil {
		t.Fatal(err)
	}
	return entries, st
}

// tableRows returns the body rows of a tablewriter table, cells trimmed,
// without the header (the first row) and the footer (after a second rule).
func tableRows(out string) [][]string {
	var rows [][]string
	rules := 0
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "├"):
			rules++
		case strings.HasPrefix(line, "│") && rules == 1:
			cells := strings.Split(strings.Trim(line, "│"), "│")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		}
	}
	return rows
}

// lsKey is the column of the key prefix in `cassette ls`.
const lsKey = 8

func keyPrefixes(es []cassette.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Key[:12])
	}
	slices.Sort(out)
	return out
}

func column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[i])
	}
	slices.Sort(out)
	return out
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runMain(t, args...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errs)
	}
	return out
}

// stats, ls and prune work from the last run: a replay of iot-01 uses the
// entries of that one trajectory; prune keeps exactly those, and the pruned
// export still replays iot-01 but nothing else.
func TestCassetteStatsLsPrune(t *testing.T) {
	db := replayedDB(t)
	dir := t.TempDir()
	entries, last := storeState(t, db)
	used := map[string]bool{}
	for _, k := range last.Used {
		used[k] = true
	}
	var wantUsed, wantUnused []cassette.Entry
	for _, e := range entries {
		if used[e.Key] {
			wantUsed = append(wantUsed, e)
		} else {
			wantUnused = append(wantUnused, e)
		}
	}
	if len(wantUsed) == 0 || len(wantUsed) != len(last.Used) || len(wantUnused) == 0 {
		t.Fatalf("fixture: %d entries, %d used keys, %d of them in the store", len(entries), len(last.Used), len(wantUsed))
	}
	for _, e := range wantUsed {
		if e.Scenario != "iot-01" || e.Model != "oracle" {
			t.Errorf("the run of iot-01 used an entry of %s, %s", e.Model, e.Scenario)
		}
	}

	out := mustRun(t, "cassette", "stats", "--db", db)
	m := regexp.MustCompile(`last run \(replay\): (\d+) hits, 0 misses, 0 recorded, 0 live; (\d+) of (\d+) entries unused`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("stats does not show the last run:\n%s", out)
	}
	if hits, _ := strconv.Atoi(m[1]); hits != len(wantUsed) {
		t.Errorf("stats: %d hits, want %d", hits, len(wantUsed))
	}
	if n, _ := strconv.Atoi(m[2]); n != len(wantUnused) || m[3] != strconv.Itoa(len(entries)) {
		t.Errorf("stats: %s of %s unused, want %d of %d", m[2], m[3], len(wantUnused), len(entries))
	}
	if !regexp.MustCompile(`│ oracle +│ chat +│ \d+ `).MatchString(out) || !strings.Contains(out, "blobs") || !strings.Contains(out, "× smaller") {
		t.Errorf("stats lacks the counts per model and kind or the sizes:\n%s", out)
	}

	out = mustRun(t, "cassette", "ls", "--db", db)
	if rows := tableRows(out); len(rows) != len(entries) || !strings.Contains(out, strconv.Itoa(len(entries))+" entries in "+db) {
		t.Errorf("ls: %d rows, want %d:\n%s", len(rows), len(entries), lastLine(out))
	}
	out = mustRun(t, "cassette", "ls", "--unused", "--db", db)
	rows := tableRows(out)
	if got, want := column(rows, lsKey), keyPrefixes(wantUnused); !slices.Equal(got, want) {
		t.Errorf("ls --unused lists %d keys, want the %d the run did not use", len(got), len(want))
	}
	for _, r := range rows {
		if r[1] == "iot-01" && r[0] == "oracle" && len(r) > lsKey && slices.Contains(keyPrefixes(wantUsed), r[lsKey]) {
			t.Errorf("ls --unused lists a used entry: %q", r)
		}
	}
	if !strings.Contains(lastLine(out), "unused by the last run") {
		t.Errorf("ls --unused: %s", lastLine(out))
	}

	// A dry run changes nothing.
	before := filepath.Join(dir, "before.jsonl")
	mustRun(t, "cassette", "export", "--db", db, "--out", before)
	out = mustRun(t, "cassette", "prune", "--dry-run", "--db", db)
	if want := "would remove " + strconv.Itoa(len(wantUnused)) + " of " + strconv.Itoa(len(entries)) + " entries"; !strings.HasPrefix(out, want) {
		t.Errorf("prune --dry-run: %q, want %q", strings.SplitN(out, "\n", 2)[0], want)
	}
	after := filepath.Join(dir, "after.jsonl")
	mustRun(t, "cassette", "export", "--db", db, "--out", after)
	if b, a := readFile(t, before), readFile(t, after); !bytes.Equal(b, a) {
		t.Error("prune --dry-run changed the store")
	}

	pruned := filepath.Join(dir, "f.jsonl.gz")
	out = mustRun(t, "cassette", "prune", "--db", db, "--out", pruned)
	if want := "removed " + strconv.Itoa(len(wantUnused)) + " of " + strconv.Itoa(len(entries)) + " entries"; !strings.HasPrefix(out, want) ||
		!strings.Contains(out, "after:  "+strconv.Itoa(len(wantUsed))+" entries") {
		t.Errorf("prune:\n%s", out)
	}
	left, _ := storeState(t, db)
	if !slices.Equal(keyPrefixes(left), keyPrefixes(wantUsed)) {
		t.Errorf("prune left %d entries, want the %d used ones", len(left), len(wantUsed))
	}
	if b := readFile(t, pruned); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Error("the pruned export is not gzip")
	}
	out = mustRun(t, "cassette", "stats", "--db", db)
	if !strings.Contains(out, "0 of "+strconv.Itoa(len(wantUsed))+" entries unused") {
		t.Errorf("stats after prune: %s", lastLine(out))
	}

	// The pruned export replays what the run used, and only that.
	res := filepath.Join(dir, "result.json")
	code, _, errs := runMain(t, "run", "--only", "iot-01", "--cassettes", pruned, "--out", res)
	if code != 0 || !strings.Contains(errs, strconv.Itoa(len(wantUsed))+" replayed") {
		t.Errorf("replay iot-01 from the pruned export: exit %d: %s", code, errs)
	}
	code, _, errs = runMain(t, "run", "--only", "wo-01", "--cassettes", pruned, "--out", res)
	if first, _, _ := strings.Cut(errs, "\n"); code != 1 || !strings.Contains(first, "cassette miss") || !strings.Contains(first, "wo-01") {
		t.Errorf("replay wo-01 from the pruned export: exit %d: %s", code, first)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verify accepts the reference export and a store, and names the line or
// the entry whose key does not match its request.
func TestCassetteVerify(t *testing.T) {
	ref := readFile(t, referenceTape)
	entries := bytes.Count(ref, []byte(`"type":"entry"`))
	out := mustRun(t, "cassette", "verify", referenceTape)
	if want := strconv.Itoa(entries) + " entries, 2 models: all keys match their requests\n"; out != want {
		t.Errorf("verify: %q, want %q", out, want)
	}

	// Edit one message of the tenth entry's request, as a hand would.
	lines := strings.SplitAfter(string(ref), "\n")
	n, target := 0, -1
	for i, l := range lines {
		if strings.Contains(l, `"type":"entry"`) {
			if n++; n == 10 {
				target = i
			}
		}
	}
	var l struct {
		Type  string         `json:"type"`
		Entry map[string]any `json:"entry"`
	}
	if err := json.Unmarshal([]byte(lines[target]), &l); err != nil {
		t.Fatal(err)
	}
	msgs := l.Entry["request"].(map[string]any)["messages"].([]any)
	msg := msgs[len(msgs)-1].(map[string]any)
	msg["content"] = msg["content"].(string) + " (edited)"
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	lines[target] = string(b) + "\n"
	tampered := filepath.Join(t.TempDir(), "tampered.jsonl")
	if err := os.WriteFile(tampered, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runMain(t, "cassette", "verify", tampered)
	want := "tampered.jsonl:" + strconv.Itoa(target+1) + ": key " + l.Entry["key"].(string) + " does not match its request"
	if first, _, _ := strings.Cut(errs, "\n"); code != 1 || !strings.Contains(first, want) {
		t.Errorf("tampered file: exit %d, %q, want %q", code, first, want)
	}

	// A store is checked entry by entry: Put takes a key as given.
	db := replayedDB(t)
	if out := mustRun(t, "cassette", "verify", "--db", db); !strings.Contains(out, "all keys match") {
		t.Errorf("verify --db: %s", out)
	}
	s, err := cassette.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.All()
	if err == nil {
		e := all[0]
		e.Key = "v2-0123456789abcdef"
		err = s.Put(e)
	}
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs = runMain(t, "cassette", "verify", "--db", db)
	if code != 1 || !strings.Contains(errs, "entry v2-0123456789abcdef (model oracle, scenario fmsr-01, call 1): key v2-0123456789abcdef does not match its request") {
		t.Errorf("tampered store: exit %d, %s", code, errs)
	}
}

// export and import round-trip byte for byte, plain and gzip, a store or a
// file; import takes several files into one store.
func TestCassetteExportImport(t *testing.T) {
	db := replayedDB(t)
	dir := t.TempDir()
	a := filepath.Join(dir, "a.jsonl")
	out := mustRun(t, "cassette", "export", "--db", db, "--out", a)
	if !strings.HasPrefix(out, "exported 136 entries, 2 models to "+a) {
		t.Errorf("export: %q", out)
	}
	if !bytes.Equal(readFile(t, a), readFile(t, referenceTape)) {
		t.Error("the export of a store replaying the reference differs from the reference file")
	}
	gz := filepath.Join(dir, "a.jsonl.gz")
	mustRun(t, "cassette", "export", "--out", gz, a) // a file to a file

	db2 := filepath.Join(dir, "db2")
	out = mustRun(t, "cassette", "import", "--db", db2, a, gz)
	if want := a + ": 136 entries\n" + gz + ": 136 entries\n" + db2 + ": 136 entries (136 new), 2 models\n"; out != want {
		t.Errorf("import printed %q, want %q", out, want)
	}
	b := filepath.Join(dir, "b.jsonl")
	mustRun(t, "cassette", "export", "--db", db2, "--out", b)
	if !bytes.Equal(readFile(t, a), readFile(t, b)) {
		t.Error("export → import → export is not byte-identical")
	}
	c := filepath.Join(dir, "c.jsonl")
	mustRun(t, "cassette", "export", "--out", c, gz)
	if !bytes.Equal(readFile(t, a), readFile(t, c)) {
		t.Error("plain → gzip → plain is not byte-identical")
	}
	// Importing what is there adds nothing; into a store with a last run, a
	// new entry would be pruned, and import says so.
	if out := mustRun(t, "cassette", "import", "--db", db, a); strings.Contains(out, "note:") || !strings.Contains(out, "(0 new)") {
		t.Errorf("import again: %q", out)
	}
}

// --stale asks the server for each model's digest: the simulator serving
// the scenarios the reference was recorded from has the same; serving
// other scenarios, its oracle is another model; a model it does not serve
// is stale too.
func TestCassetteStale(t *testing.T) {
	ss, err := scenarios.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	serve := func(p map[string]sim.Policy) string {
		srv := httptest.NewServer(sim.New(p))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	total := strconv.Itoa(bytes.Count(readFile(t, referenceTape), []byte(`"type":"entry"`)))

	same := serve(sim.Policies(ss))
	out := mustRun(t, "cassette", "ls", "--stale", "--ollama", same, referenceTape)
	if rows := tableRows(out); len(rows) != 0 || !strings.HasPrefix(out, "0 of "+total+" entries in "+referenceTape+" stale against "+same) {
		t.Errorf("ls --stale against the same policies:\n%s", out)
	}
	out = mustRun(t, "cassette", "verify", "--ollama", same, referenceTape)
	if !strings.Contains(out, "oracle: digest 1ae6b93a1ac7 matches the server\noracle-text: digest 1ae6b93a1ac7 matches the server\n") {
		t.Errorf("verify --ollama against the same policies:\n%s", out)
	}

	other := serve(sim.Policies(ss[1:]))
	code, out, errs := runMain(t, "cassette", "ls", "--stale", "--ollama", other, referenceTape)
	rows := tableRows(out)
	if code != 0 || len(rows) == 0 || !strings.HasPrefix(lastLine(out), total+" of "+total+" entries") {
		t.Fatalf("ls --stale against other policies: exit %d, %d rows: %s %s", code, len(rows), lastLine(out), errs)
	}
	for _, r := range rows {
		if !strings.HasPrefix(r[len(r)-1], "recorded digest 1ae6b93a1ac7, server has ") || strings.HasSuffix(r[len(r)-1], "1ae6b93a1ac7") {
			t.Errorf("stale because %q", r[len(r)-1])
			break
		}
	}
	code, out, errs = runMain(t, "cassette", "verify", "--ollama", other, referenceTape)
	if code != 1 || !strings.Contains(out, "oracle: stale, 68 of 68 entries: recorded digest 1ae6b93a1ac7") ||
		!strings.Contains(errs, "2 of 2 models stale against "+other) {
		t.Errorf("verify --ollama against other policies: exit %d\n%s%s", code, out, errs)
	}

	onlyOracle := serve(map[string]sim.Policy{"oracle": sim.Policies(ss)["oracle"]})
	out = mustRun(t, "cassette", "ls", "--stale", "--ollama", onlyOracle, referenceTape)
	rows = tableRows(out)
	if len(rows) != 68 {
		t.Errorf("ls --stale without oracle-text: %d rows, want 68", len(rows))
	}
	for _, r := range rows {
		if r[0] != "oracle-text" || r[len(r)-1] != "model not on the server" {
			t.Errorf("stale row %q", r)
			break
		}
	}
}

// Bad input: one line saying what is wrong, the right exit status, and
// every store closed again whatever failed.
func TestCassetteBadInput(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.jsonl")
	if err := os.WriteFile(corrupt, []byte(`{"format":"assetops-cassette","version":2}`+"\n{\"key\":"), 0o644); err != nil {
		t.Fatal(err)
	}
	notStore := filepath.Join(dir, "notstore")
	if err := os.MkdirAll(notStore, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notStore, "notes.txt"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	noDir := filepath.Join(dir, "none")
	// A store with no run saved in it.
	imported := filepath.Join(dir, "imported")
	mustRun(t, "cassette", "import", "--db", imported, referenceTape)
	// A store whose last run missed.
	missed := filepath.Join(dir, "missed")
	if code, _, errs := runMain(t, "run", "--cassette-db", missed, "--seed", "7", "--out", filepath.Join(dir, "r.json")); code != 1 {
		t.Fatalf("run with a miss: exit %d: %s", code, errs)
	}
	// A store another one has open.
	locked := filepath.Join(dir, "locked")
	mustRun(t, "cassette", "import", "--db", locked, referenceTape)
	s, err := cassette.Open(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		args []string
		code int
		want string // in the first line of stderr
	}{
		{"no subcommand", []string{"cassette"}, 2, "usage: assetops cassette ls|stats|verify|export|import|prune"},
		{"unknown subcommand", []string{"cassette", "rewind"}, 2, `unknown cassette command "rewind"`},
		{"no store", []string{"cassette", "ls"}, 2, "give a cassette export FILE or --db DIR"},
		{"file and db", []string{"cassette", "stats", "--db", imported, referenceTape}, 2, "give a cassette FILE or --db DIR, not both"},
		{"two files", []string{"cassette", "verify", referenceTape, referenceTape}, 2, "one cassette FILE at a time"},
		{"missing file", []string{"cassette", "verify", filepath.Join(dir, "none.jsonl")}, 1, "no such file"},
		{"corrupt file", []string{"cassette", "ls", corrupt}, 1, "corrupt.jsonl:2: bad line"},
		{"missing db", []string{"cassette", "ls", "--db", noDir}, 1, "no cassette store at " + noDir},
		{"not a store", []string{"cassette", "stats", "--db", notStore}, 1, "is not a cassette store"},
		{"db is a file", []string{"cassette", "stats", "--db", corrupt}, 1, "not a directory"},
		{"locked db", []string{"cassette", "stats", "--db", locked}, 1, "is open in another process"},
		{"locked db on import", []string{"cassette", "import", "--db", locked, referenceTape}, 1, "is open in another process"},
		{"unused of a file", []string{"cassette", "ls", "--unused", referenceTape}, 2, "--unused needs --db DIR"},
		{"unused without a run", []string{"cassette", "ls", "--unused", "--db", imported}, 1, "no run saved in " + imported + ": run 'assetops run --cassette-db " + imported + "' first"},
		{"prune without a run", []string{"cassette", "prune", "--db", imported}, 1, "no run saved in " + imported},
		{"prune after a miss", []string{"cassette", "prune", "--db", missed}, 1, "so it did not run to the end"},
		{"prune a file", []string{"cassette", "prune", referenceTape}, 2, "cassette prune needs --db DIR"},
		{"export without --out", []string{"cassette", "export", "--db", imported}, 2, "cassette export needs --out FILE"},
		{"import without --db", []string{"cassette", "import", referenceTape}, 2, "cassette import needs --db DIR"},
		{"import without files", []string{"cassette", "import", "--db", imported}, 2, "usage: assetops cassette import --db DIR FILE..."},
		{"import a corrupt file", []string{"cassette", "import", "--db", imported, referenceTape, corrupt}, 1, "corrupt.jsonl:2: bad line"},
		{"ollama without stale", []string{"cassette", "ls", "--ollama", dead, referenceTape}, 2, "--ollama is only used with --stale"},
		{"server down", []string{"cassette", "ls", "--stale", "--ollama", dead, referenceTape}, 1, "connection refused"},
		{"bad flag", []string{"cassette", "stats", "--nope"}, 2, "flag provided but not defined"},
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
		})
	}
	if _, err := os.Stat(noDir); !os.IsNotExist(err) {
		t.Errorf("a missing --db was created: %v", err)
	}
	// Every failed command closed its store.
	for _, db := range []string{imported, missed} {
		s, err := cassette.Open(db)
		if err != nil {
			t.Fatalf("after the failures: %v", err)
		}
		s.Close()
	}
}
