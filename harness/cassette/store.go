// Package cassette records every model call and replays it bit for bit.
//
// A call is keyed by a versioned hash of its canonical request, its kind
// (chat, embed, show), the epoch and its ordinal within the trajectory. The
// working store is Badger; the committed form is a sorted JSONL export, one
// entry a line, that loads back into Badger at start.
package cassette

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/assetops/assetops/harness/atomicfile"
	"github.com/dgraph-io/badger/v4"
)

// ExportFormat heads every export file.
const ExportFormat = "assetops-cassette"

// ExportVersion is the version of the export format.
const ExportVersion = 1

// Entry is one recorded call.
type Entry struct {
	Key      string          `json:"key"`
	Kind     string          `json:"kind"`
	Model    string          `json:"model"`
	Scenario string          `json:"scenario,omitempty"`
	Epoch    int             `json:"epoch"`
	Lane     string          `json:"lane,omitempty"`
	Call     int             `json:"call"`
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
}

// Store holds entries in Badger.
type Store struct {
	db *badger.DB
}

const entryPrefix = "e/"

// Open opens a Badger store in dir, or in memory when dir is empty.
func Open(dir string) (*Store, error) {
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(8 << 20)
	if dir == "" {
		opts = opts.WithInMemory(true)
	}
	db, err := badger.Open(opts)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("open cassette store %s: another process has it open", dir)
		}
		return nil, fmt.Errorf("open cassette store %s: %w", dir, err)
	}
	return &Store{db: db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Get returns the entry with key, if any.
func (s *Store) Get(key string) (Entry, bool, error) {
	var e Entry
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(entryPrefix + key))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &e) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("cassette get %s: %w", key, err)
	}
	return e, true, nil
}

// Put stores an entry, replacing one with the same key.
func (s *Store) Put(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("cassette put %s: %w", e.Key, err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(entryPrefix+e.Key), b) }); err != nil {
		return fmt.Errorf("cassette put %s: %w", e.Key, err)
	}
	return nil
}

// All returns every entry in export order: model, scenario, epoch, call,
// kind, key.
func (s *Store) All() ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: []byte(entryPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var e Entry
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &e) }); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cassette scan: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return exportLess(out[i], out[j]) })
	return out, nil
}

func exportLess(a, b Entry) bool {
	if a.Model != b.Model {
		return a.Model < b.Model
	}
	if a.Scenario != b.Scenario {
		return a.Scenario < b.Scenario
	}
	if a.Epoch != b.Epoch {
		return a.Epoch < b.Epoch
	}
	if a.Lane != b.Lane {
		return a.Lane < b.Lane
	}
	if a.Call != b.Call {
		return a.Call < b.Call
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Key < b.Key
}

type exportHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// Export writes the header line and every entry, one canonical JSON line
// each, in export order: the same store always gives the same bytes.
func (s *Store) Export(w io.Writer) error {
	entries, err := s.All()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := writeLine(bw, exportHeader{ExportFormat, ExportVersion}); err != nil {
		return err
	}
	for _, e := range entries {
		if err := writeLine(bw, e); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func writeLine(w *bufio.Writer, v any) error {
	b, err := Canonical(v)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return err
	}
	return nil
}

// Import reads an export into the store and returns the number of entries.
// Every line is checked before anything is written: a malformed line or an
// entry whose key does not match its request rejects the whole file, naming
// the line, and leaves the store as it was.
func (s *Store) Import(name string, r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	var entries []Entry
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			var h exportHeader
			if err := json.Unmarshal(text, &h); err != nil || h.Format != ExportFormat {
				return 0, fmt.Errorf("%s:1: not a cassette export (want a %q header line)", name, ExportFormat)
			}
			if h.Version != ExportVersion {
				return 0, fmt.Errorf("%s:1: cassette export version %d, this build reads %d", name, h.Version, ExportVersion)
			}
			continue
		}
		if len(text) == 0 {
			continue
		}
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return 0, fmt.Errorf("%s:%d: bad entry: %w", name, line, err)
		}
		if err := e.check(); err != nil {
			return 0, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if line == 0 {
		return 0, fmt.Errorf("%s: empty file, not a cassette export", name)
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			return 0, err
		}
		if err := wb.Set([]byte(entryPrefix+e.Key), b); err != nil {
			return 0, fmt.Errorf("import %s: %w", name, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return 0, fmt.Errorf("import %s: %w", name, err)
	}
	return len(entries), nil
}

// check verifies that the entry is whole and its key is its request's.
func (e Entry) check() error {
	if e.Kind == "" || len(e.Request) == 0 || len(e.Response) == 0 {
		return errors.New("entry lacks kind, request or response")
	}
	req, err := Canonical(e.Request)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if want := Key(e.Kind, e.Epoch, e.Lane, e.Call, req); want != e.Key {
		return fmt.Errorf("key %s does not match its request (edited by hand? re-record it)", e.Key)
	}
	return nil
}

// ImportFile imports an export file.
func (s *Store) ImportFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("import cassettes: %w", err)
	}
	defer f.Close()
	return s.Import(path, f)
}

// ExportFile writes the export to path atomically: a reader sees the old
// file or the new one, never half of one.
func (s *Store) ExportFile(path string) error {
	var buf bytes.Buffer
	if err := s.Export(&buf); err != nil {
		return fmt.Errorf("export cassettes %s: %w", path, err)
	}
	return atomicfile.Write(path, buf.Bytes())
}
