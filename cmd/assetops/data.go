package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/assetops/assetops/fixtures"
	"github.com/assetops/assetops/fixtures/aob"
	"github.com/assetops/assetops/fixtures/kivikstore"
	"github.com/assetops/assetops/harness/result"
	"github.com/go-kivik/kivik/v4"
	_ "github.com/go-kivik/kivik/v4/couchdb" // the "couch" driver
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// dataFlags choose where the tools read the dataset from.
type dataFlags struct {
	couch   string
	prefix  string
	dataset string
	cache   string
	seed    uint64
}

func (f *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.couch, "couch", "", "read the dataset from this CouchDB (URL, credentials in it if needed); load it first with 'assetops data load'")
	fs.StringVar(&f.prefix, "couch-prefix", kivikstore.DefaultPrefix, "prefix of the dataset's database names in CouchDB")
	fs.StringVar(&f.dataset, "dataset", "", "a directory laid out like the original AssetOpsBench sample_data, instead of the generated dataset")
	fs.StringVar(&f.cache, "data-cache", kivikstore.DefaultCacheDir(), "where the generated dataset is kept between runs (\"\" or \"off\": in memory)")
	fs.Uint64Var(&f.seed, "data-seed", fixtures.DefaultSeed, "seed of the generated dataset")
}

func (f *dataFlags) cacheDir() string {
	if f.cache == "off" {
		return ""
	}
	return f.cache
}

// generated reads the original-layout directory or generates the dataset.
func (f *dataFlags) generated() (*fixtures.Dataset, kivikstore.Info, error) {
	if f.dataset == "" {
		return fixtures.Generate(f.seed), kivikstore.Info{Source: "generated", GeneratorVersion: fixtures.GeneratorVersion, Seed: f.seed}, nil
	}
	abs, err := filepath.Abs(f.dataset)
	if err != nil {
		return nil, kivikstore.Info{}, err
	}
	d, err := aob.Read(abs)
	if err != nil {
		return nil, kivikstore.Info{}, err
	}
	return d, kivikstore.Info{Source: abs}, nil
}

func couchClient(url string) (*kivik.Client, error) {
	c, err := kivik.New("couch", url)
	if err != nil {
		return nil, fmt.Errorf("couchdb %s: %w", url, err)
	}
	return c, nil
}

// open opens the store the flags name.
func (f *dataFlags) open(ctx context.Context) (*kivikstore.Store, error) {
	switch {
	case f.couch != "" && f.dataset != "":
		return nil, usagef("--dataset with --couch: load it into CouchDB first with 'assetops data load --couch URL --dataset DIR'")
	case f.couch != "":
		c, err := couchClient(f.couch)
		if err != nil {
			return nil, err
		}
		s, err := kivikstore.Open(ctx, c, f.prefix)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("couchdb %s: %w", f.couch, err)
		}
		return s, nil
	case f.dataset != "":
		d, info, err := f.generated()
		if err != nil {
			return nil, err
		}
		c, err := kivik.New("badger", "")
		if err != nil {
			return nil, err
		}
		s, err := kivikstore.Load(ctx, c, kivikstore.DefaultPrefix, d, info, nil)
		if err != nil {
			c.Close()
			return nil, err
		}
		return s, nil
	}
	return kivikstore.Embedded(ctx, f.cacheDir(), f.seed)
}

func datasetOf(s *kivikstore.Store) result.Dataset {
	i := s.Info()
	return result.Dataset{Source: i.Source, GeneratorVersion: i.GeneratorVersion, Seed: i.Seed}
}

func cmdData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "load" && args[0] != "info" {
		return usagef("usage: assetops data load|info [flags]")
	}
	fs := newFlags("data "+args[0], stderr)
	var df dataFlags
	df.register(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("data %s takes no arguments, got %q", args[0], fs.Args())
	}
	var s *kivikstore.Store
	var err error
	switch {
	case args[0] == "load" && df.couch != "":
		d, info, err := df.generated()
		if err != nil {
			return err
		}
		c, err := couchClient(df.couch)
		if err != nil {
			return err
		}
		defer c.Close()
		bar := newProgress(stderr)
		s, err = kivikstore.Load(ctx, c, df.prefix, d, info, bar.update)
		if err != nil {
			return fmt.Errorf("couchdb %s: %w (rerun to finish the load: what is in stays)", df.couch, err)
		}
	default:
		// Without --couch, load warms the cache of the embedded store.
		if s, err = df.open(ctx); err != nil {
			return err
		}
		defer s.Close()
	}
	info := s.Info()
	fmt.Fprintln(stdout, info)
	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("database", "documents")
	for _, table := range kivikstore.Tables {
		if table == kivikstore.Meta {
			continue
		}
		if err := t.Append([]string{df.prefix + table, fmt.Sprint(info.Counts[table])}); err != nil {
			return err
		}
	}
	return t.Render()
}

// progress draws a load's progress: a bar redrawn in place on a terminal,
// a line a table otherwise.
type progress struct {
	w    io.Writer
	tty  bool
	last string
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(pr kivikstore.Progress) {
	line := fmt.Sprintf("%-22s %7d/%-7d", pr.Table, pr.Done, pr.Total)
	if pr.Existing > 0 {
		line += fmt.Sprintf(" (%d already there)", pr.Existing)
	}
	if p.tty {
		width := 30
		filled := width
		if pr.Total > 0 {
			filled = width * pr.Done / pr.Total
		}
		fmt.Fprintf(p.w, "\r%s [%s%s]", line, strings.Repeat("█", filled), strings.Repeat("░", width-filled))
		if pr.Done == pr.Total {
			fmt.Fprintln(p.w)
		}
		return
	}
	if pr.Done == pr.Total && line != p.last {
		fmt.Fprintln(p.w, line)
		p.last = line
	}
}
