package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/harness/cassette"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

const cassetteUsage = "usage: assetops cassette ls|stats|verify|export|import|prune [flags] [FILE]"

// cmdCassette inspects and maintains cassettes: an export file or the
// Badger directory of `run --cassette-db`.
func cmdCassette(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", cassetteUsage)
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "ls":
		return cassetteLs(ctx, rest, stdout, stderr)
	case "stats":
		return cassetteStats(rest, stdout, stderr)
	case "verify":
		return cassetteVerify(ctx, rest, stdout, stderr)
	case "export":
		return cassetteExport(rest, stdout, stderr)
	case "import":
		return cassetteImport(rest, stdout, stderr)
	case "prune":
		return cassettePrune(rest, stdout, stderr)
	default:
		return usagef("unknown cassette command %q (%s)", sub, cassetteUsage)
	}
}

// source is the store a subcommand reads: a Badger directory, or an export
// file imported into memory.
type source struct {
	*cassette.Store
	db   string // the --db directory, or ""
	name string // for messages: the file, or the directory
}

// dbFlag registers --db.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "Badger directory of the cassettes (as written by 'assetops run --cassette-db DIR')")
}

// openSource opens the one store the command line names: --db DIR or a
// positional export FILE (plain or gzip).
func openSource(fs *flag.FlagSet, db string) (*source, error) {
	switch {
	case db != "" && fs.NArg() > 0:
		return nil, usagef("give a cassette FILE or --db DIR, not both")
	case db == "" && fs.NArg() == 0:
		return nil, usagef("give a cassette export FILE or --db DIR")
	case fs.NArg() > 1:
		return nil, usagef("one cassette FILE at a time, got %q", fs.Args())
	}
	if db != "" {
		s, err := openDB(db, false)
		if err != nil {
			return nil, err
		}
		return &source{Store: s, db: db, name: db}, nil
	}
	file := fs.Arg(0)
	s, err := cassette.Open("")
	if err != nil {
		return nil, err
	}
	if _, err := s.ImportFile(file); err != nil {
		s.Close()
		return nil, err
	}
	return &source{Store: s, name: file}, nil
}

// openDB opens a Badger cassette store. Unless create is set the directory
// must hold one already: Badger would otherwise make an empty store, and in
// any directory at all.
func openDB(dir string, create bool) (*cassette.Store, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) && create:
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("no cassette store at %s (make one with 'assetops run --cassette-db %s' or 'assetops cassette import --db %s FILE')", dir, dir, dir)
	case err != nil:
		return nil, fmt.Errorf("cassette store %s: %w", dir, err)
	case !st.IsDir():
		return nil, fmt.Errorf("cassette store %s: not a directory", dir)
	default:
		if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
			if empty, _ := isEmptyDir(dir); !create || !empty {
				return nil, fmt.Errorf("%s is not a cassette store (no Badger MANIFEST in it)", dir)
			}
		}
	}
	s, err := cassette.Open(dir)
	if err != nil {
		// cassette.Open's hint names run's flag; say it for this command.
		if strings.Contains(err.Error(), "another process has it open") {
			return nil, fmt.Errorf("cassette store %s is open in another process (Badger locks it while open: wait for that to finish)", dir)
		}
		return nil, err
	}
	return s, nil
}

func isEmptyDir(dir string) (bool, error) {
	des, err := os.ReadDir(dir)
	return len(des) == 0, err
}

// closeStore closes s, keeping the first error.
func closeStore(s *cassette.Store, err *error) {
	if cerr := s.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}

// lastRun returns the stats the last `run --cassette-db` saved in the store.
func (src *source) lastRun() (cassette.Stats, error) {
	if src.db == "" {
		return cassette.Stats{}, usagef("only a --db store keeps the last run (run 'assetops run --cassette-db DIR' first and pass --db DIR)")
	}
	st, ok, err := src.LastRun()
	if err != nil {
		return st, err
	}
	if !ok {
		return st, fmt.Errorf("no run saved in %s: run 'assetops run --cassette-db %s' first", src.db, src.db)
	}
	return st, nil
}

// unused returns the entries the last run neither replayed nor recorded.
func unused(entries []cassette.Entry, st cassette.Stats) []cassette.Entry {
	used := make(map[string]bool, len(st.Used))
	for _, k := range st.Used {
		used[k] = true
	}
	var out []cassette.Entry
	for _, e := range entries {
		if !used[e.Key] {
			out = append(out, e)
		}
	}
	return out
}

func cassetteLs(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("cassette ls", stderr)
	db := dbFlag(fs)
	onlyUnused := fs.Bool("unused", false, "only the entries the last run did not use (needs --db)")
	stale := fs.Bool("stale", false, "only the entries whose model's digest differs from the server's (see --ollama)")
	ollamaURL := fs.String("ollama", "", "server for --stale (default $OLLAMA_HOST, else "+llm.DefaultOllamaURL+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *ollamaURL != "" && !*stale {
		return usagef("--ollama is only used with --stale")
	}
	if *onlyUnused && *db == "" {
		return usagef("--unused needs --db DIR: only a Badger store keeps the last run (run 'assetops run --cassette-db DIR' first)")
	}
	src, err := openSource(fs, *db)
	if err != nil {
		return err
	}
	defer closeStore(src.Store, &err)
	entries, err := src.All()
	if err != nil {
		return err
	}
	total := len(entries)
	var what []string
	if *onlyUnused {
		st, err := src.lastRun()
		if err != nil {
			return err
		}
		entries = unused(entries, st)
		what = append(what, "unused by the last run")
	}
	var reasons map[string]string // by key
	if *stale {
		live, server, err := liveModels(ctx, *ollamaURL, modelNames(entries))
		if err != nil {
			return err
		}
		reasons = map[string]string{}
		var kept []cassette.Entry
		for _, e := range entries {
			if r := staleReason(e.Digest, live[e.Model]); r != "" {
				reasons[e.Key] = r
				kept = append(kept, e)
			}
		}
		entries = kept
		what = append(what, "stale against "+server)
	}

	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off))
	header := []string{"model", "scenario", "epoch", "lane", "call", "kind", "request bytes", "response bytes", "key"}
	if *stale {
		header = append(header, "stale because")
	}
	t.Header(header)
	for _, e := range entries {
		row := []string{e.Model, dash(e.Scenario), fmt.Sprint(e.Epoch), dash(e.Lane), fmt.Sprint(e.Call), e.Kind,
			fmt.Sprint(len(e.Request)), fmt.Sprint(len(e.Response)), clipKey(e.Key)}
		if *stale {
			row = append(row, reasons[e.Key])
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	if len(entries) > 0 {
		if err := t.Render(); err != nil {
			return err
		}
	}
	if what == nil {
		fmt.Fprintf(stdout, "%d entries in %s\n", total, src.name)
	} else {
		fmt.Fprintf(stdout, "%d of %d entries in %s %s\n", len(entries), total, src.name, strings.Join(what, ", "))
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clipKey(k string) string {
	if len(k) > 12 {
		return k[:12]
	}
	return k
}

func modelNames(entries []cassette.Entry) []string {
	var names []string
	for _, e := range entries {
		if !slices.Contains(names, e.Model) {
			names = append(names, e.Model)
		}
	}
	slices.Sort(names)
	return names
}

// liveModels asks the server what it has of each model: nil for a model it
// does not have. It returns the server's URL too.
func liveModels(ctx context.Context, url string, names []string) (map[string]*llm.ModelInfo, string, error) {
	o, err := llm.NewOllama(url, nil)
	if err != nil {
		return nil, "", usageError{err.Error()}
	}
	live := map[string]*llm.ModelInfo{}
	for _, name := range names {
		info, err := o.Show(ctx, name)
		if err != nil {
			// The client keeps only the status line of Ollama's answer;
			// 404 is its "model not found".
			if strings.Contains(err.Error(), "server said 404") {
				live[name] = nil
				continue
			}
			return nil, "", err
		}
		live[name] = info
	}
	return live, o.URL(), nil
}

// staleReason says why a recording with digest no longer matches what the
// server has, or "" when it does.
func staleReason(digest string, live *llm.ModelInfo) string {
	switch {
	case live == nil:
		return "model not on the server"
	case live.Digest == "":
		return "the server lists no digest for it"
	case live.Digest != digest:
		return fmt.Sprintf("recorded digest %s, server has %s", short(digest), short(live.Digest))
	}
	return ""
}

func short(digest string) string {
	d := strings.TrimPrefix(digest, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

func cassetteStats(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("cassette stats", stderr)
	db := dbFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	src, err := openSource(fs, *db)
	if err != nil {
		return err
	}
	defer closeStore(src.Store, &err)
	entries, err := src.All()
	if err != nil {
		return err
	}
	type group struct{ model, kind string }
	type count struct {
		entries           int
		request, response int
	}
	counts := map[group]*count{}
	var groups []group
	var all count
	for _, e := range entries {
		g := group{e.Model, e.Kind}
		c, ok := counts[g]
		if !ok {
			c = &count{}
			counts[g] = c
			groups = append(groups, g)
		}
		for _, c := range []*count{c, &all} {
			c.entries++
			c.request += len(e.Request)
			c.response += len(e.Response)
		}
	}
	slices.SortFunc(groups, func(a, b group) int {
		if c := strings.Compare(a.model, b.model); c != 0 {
			return c
		}
		return strings.Compare(a.kind, b.kind)
	})
	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("model", "kind", "entries", "request bytes", "response bytes")
	for _, g := range groups {
		c := counts[g]
		if err := t.Append([]string{g.model, g.kind, fmt.Sprint(c.entries), fmt.Sprint(c.request), fmt.Sprint(c.response)}); err != nil {
			return err
		}
	}
	t.Footer("all", "", fmt.Sprint(all.entries), fmt.Sprint(all.request), fmt.Sprint(all.response))
	if err := t.Render(); err != nil {
		return err
	}

	z, err := src.Sizes()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d entries, %d models, %d blobs; %s raw, %s stored (%s)\n",
		src.name, z.Entries, z.Models, z.Blobs, humanBytes(z.Raw), humanBytes(z.Stored), ratio(z.Raw, z.Stored))
	if src.db == "" {
		return nil
	}
	st, ok, err := src.LastRun()
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(stdout, "last run: none saved in %s\n", src.db)
		return nil
	}
	n := len(unused(entries, st))
	fmt.Fprintf(stdout, "last run (%s): %d hits, %d misses, %d recorded, %d live; %d of %d entries unused",
		st.Mode, st.Hits, st.Misses, st.Recorded, st.Live, n, len(entries))
	if n > 0 {
		fmt.Fprintf(stdout, " ('assetops cassette prune --db %s' removes them)", src.db)
	}
	fmt.Fprintln(stdout)
	return nil
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func ratio(raw, stored int64) string {
	if stored == 0 {
		return "nothing stored"
	}
	return fmt.Sprintf("%.2f× smaller", float64(raw)/float64(stored))
}

func cassetteVerify(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("cassette verify", stderr)
	db := dbFlag(fs)
	ollamaURL := fs.String("ollama", "", "also check every model's digest against this server, and fail if one is stale")
	if err := parse(fs, args); err != nil {
		return err
	}
	// Importing a file checks every line and key; a store is checked here.
	src, err := openSource(fs, *db)
	if err != nil {
		return err
	}
	defer closeStore(src.Store, &err)
	entries, err := src.All()
	if err != nil {
		return err
	}
	models, err := src.Models()
	if err != nil {
		return err
	}
	if src.db != "" {
		if err := checkKeys(entries, models); err != nil {
			return fmt.Errorf("%s: %w", src.db, err)
		}
	}
	fmt.Fprintf(stdout, "%d entries, %d models: all keys match their requests\n", len(entries), len(models))
	if *ollamaURL == "" {
		return nil
	}
	names := modelNames(entries)
	for _, m := range models {
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	live, server, err := liveModels(ctx, *ollamaURL, names)
	if err != nil {
		return err
	}
	recorded := map[string]string{}
	for _, m := range models {
		recorded[m.Name] = m.Digest
	}
	stale := 0
	for _, name := range names {
		n, of, reason := 0, 0, staleReason(recorded[name], live[name])
		for _, e := range entries {
			if e.Model == name {
				of++
				if r := staleReason(e.Digest, live[name]); r != "" {
					n++
					reason = r
				}
			}
		}
		if reason == "" {
			fmt.Fprintf(stdout, "%s: digest %s matches the server\n", name, short(live[name].Digest))
			continue
		}
		stale++
		fmt.Fprintf(stdout, "%s: stale, %d of %d entries: %s\n", name, n, of, reason)
	}
	if stale > 0 {
		return fmt.Errorf("%d of %d models stale against %s: re-record them with 'assetops run --mode record'", stale, len(names), server)
	}
	return nil
}

// checkKeys does for a store what an import does for a file: every entry
// is whole, its key is its request's, and its model is recorded.
func checkKeys(entries []cassette.Entry, models []llm.ModelInfo) error {
	bad := 0
	var first error
	for _, e := range entries {
		var err error
		if !slices.ContainsFunc(models, func(m llm.ModelInfo) bool { return m.Name == e.Model }) {
			err = fmt.Errorf("model %s is not recorded", e.Model)
		} else {
			err = e.Check()
		}
		if err != nil {
			bad++
			if first == nil {
				first = fmt.Errorf("entry %s (model %s, scenario %s, call %d): %w", e.Key, e.Model, dash(e.Scenario), e.Call, err)
			}
		}
	}
	if bad > 1 {
		return fmt.Errorf("%d of %d entries are bad; the first: %w", bad, len(entries), first)
	}
	return first
}

func cassetteExport(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("cassette export", stderr)
	db := dbFlag(fs)
	out := fs.String("out", "", "export file to write (gzip when it ends in .gz)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("cassette export needs --out FILE")
	}
	src, err := openSource(fs, *db)
	if err != nil {
		return err
	}
	defer closeStore(src.Store, &err)
	return export(src.Store, *out, stdout)
}

func export(s *cassette.Store, out string, stdout io.Writer) error {
	if err := s.ExportFile(out); err != nil {
		return err
	}
	z, err := s.Sizes()
	if err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d entries, %d models to %s (%s)\n", z.Entries, z.Models, out, humanBytes(st.Size()))
	return nil
}

func cassetteImport(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("cassette import", stderr)
	db := dbFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("cassette import needs --db DIR, the store to import into")
	}
	if fs.NArg() == 0 {
		return usagef("usage: assetops cassette import --db DIR FILE...")
	}
	s, err := openDB(*db, true)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	before, err := s.Sizes()
	if err != nil {
		return err
	}
	for i, file := range fs.Args() {
		n, err := s.ImportFile(file)
		if err != nil {
			if i > 0 {
				return fmt.Errorf("%w (the files before it were imported)", err)
			}
			return err
		}
		fmt.Fprintf(stdout, "%s: %d entries\n", file, n)
	}
	after, err := s.Sizes()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d entries (%d new), %d models\n", *db, after.Entries, after.Entries-before.Entries, after.Models)
	if _, ok, err := s.LastRun(); err != nil {
		return err
	} else if ok && after.Entries > before.Entries {
		fmt.Fprintf(stdout, "note: the last run saved in %s did not use the new entries, so 'cassette prune' would remove them\n", *db)
	}
	return nil
}

func cassettePrune(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("cassette prune", stderr)
	db := dbFlag(fs)
	out := fs.String("out", "", "then export the pruned store to this file (gzip when it ends in .gz)")
	dryRun := fs.Bool("dry-run", false, "say what would be removed, change nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("cassette prune needs --db DIR: only a Badger store keeps the last run")
	}
	if fs.NArg() > 0 {
		return usagef("cassette prune takes no arguments, got %q", fs.Args())
	}
	src, err := openSource(fs, *db)
	if err != nil {
		return err
	}
	defer closeStore(src.Store, &err)
	st, err := src.lastRun()
	if err != nil {
		return err
	}
	// A run that stopped early used only part of what it needs.
	switch {
	case st.Mode == cassette.Passthrough:
		return fmt.Errorf("the last run in %s was a passthrough run, which uses no cassettes: nothing to prune by", *db)
	case st.Misses > 0:
		return fmt.Errorf("the last run in %s missed %d calls, so it did not run to the end: prune after a run that succeeds", *db, st.Misses)
	}
	entries, err := src.All()
	if err != nil {
		return err
	}
	gone := unused(entries, st)
	before, err := src.Sizes()
	if err != nil {
		return err
	}
	verb := "removed"
	if *dryRun {
		verb = "would remove"
	}
	fmt.Fprintf(stdout, "%s %d of %d entries, unused by the last run (%s)\n", verb, len(gone), len(entries), st.Mode)
	if len(gone) > 0 {
		if err := pruneTable(stdout, gone); err != nil {
			return err
		}
	}
	if *dryRun {
		fmt.Fprintf(stdout, "now: %s\n", sizesLine(before))
		if *out != "" {
			fmt.Fprintf(stdout, "would export the pruned store to %s\n", *out)
		}
		return nil
	}
	keys := make([]string, len(gone))
	for i, e := range gone {
		keys[i] = e.Key
	}
	if err := src.Delete(keys); err != nil {
		return err
	}
	src.GC()
	after, err := src.Sizes()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "before: %s\nafter:  %s\n", sizesLine(before), sizesLine(after))
	if *out != "" {
		return export(src.Store, *out, stdout)
	}
	return nil
}

func sizesLine(z cassette.Sizes) string {
	return fmt.Sprintf("%d entries, %d blobs, %s raw, %s stored", z.Entries, z.Blobs, humanBytes(z.Raw), humanBytes(z.Stored))
}

// pruneTable counts entries by model and scenario.
func pruneTable(w io.Writer, entries []cassette.Entry) error {
	type group struct{ model, scenario string }
	counts := map[group]int{}
	var groups []group
	for _, e := range entries { // sorted by model, then scenario
		g := group{e.Model, dash(e.Scenario)}
		if counts[g] == 0 {
			groups = append(groups, g)
		}
		counts[g]++
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("model", "scenario", "entries")
	for _, g := range groups {
		if err := t.Append([]string{g.model, g.scenario, fmt.Sprint(counts[g])}); err != nil {
			return err
		}
	}
	return t.Render()
}
