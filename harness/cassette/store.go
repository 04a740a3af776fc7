// Package cassette records every model call and replays it bit for bit.
//
// A call is keyed by a versioned hash of its canonical request, its kind
// (chat, embed), the identity of the model (digest and server version), the
// epoch, its lane and its ordinal within the trajectory. The working store
// is Badger; the committed form is a sorted JSONL export (gzip when the file
// name ends in .gz) that loads back into Badger at start.
//
// Requests are stored content-addressed: the tools array, the same in most
// calls of a run and the bulk of each request, is kept once as a blob that
// requests refer to, in Badger and in the export alike.
package cassette

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/assetops/assetops/agents/llm"
	"github.com/assetops/assetops/harness/atomicfile"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// ExportFormat heads every export file.
const ExportFormat = "assetops-cassette"

// ExportVersion is the version of the export format. Version 2 stores tools
// arrays once, as blobs, and records the identity of each model.
const ExportVersion = 2

// Entry is one recorded call.
type Entry struct {
	Key           string          `json:"key"`
	Kind          string          `json:"kind"`
	Model         string          `json:"model"`
	Digest        string          `json:"digest"`
	ServerVersion string          `json:"server_version"`
	Scenario      string          `json:"scenario,omitempty"`
	Epoch         int             `json:"epoch"`
	Lane          string          `json:"lane,omitempty"`
	Call          int             `json:"call"`
	Request       json.RawMessage `json:"request"`
	Response      json.RawMessage `json:"response"`
}

// Identity of the entry's model.
func (e Entry) Identity() Identity { return Identity{e.Digest, e.ServerVersion} }

// Store holds entries in Badger. It is safe for concurrent use.
type Store struct {
	db   *badger.DB
	dir  string
	stop chan struct{}
	done sync.WaitGroup
	// entries caches what Lookup returns (no requests: they stay in
	// Badger), so that a replayed call costs a map read, not a Badger read
	// and a decode. Badger stays the record.
	entries sync.Map // key → Entry
}

// Badger key prefixes.
const (
	entryPrefix = "e/" // e/<key>: the entry, its request as a blob reference
	blobPrefix  = "b/" // b/<hash>: canonical JSON, content-addressed
	modelPrefix = "i/" // i/<model>: what the server said of the model (llm.ModelInfo)
	lastRunKey  = "m/last-run"
)

// gcInterval is how often an on-disk store reclaims value-log space.
const gcInterval = 10 * time.Minute

// Open opens a Badger store in dir, or in memory when dir is empty.
func Open(dir string) (*Store, error) {
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(8 << 20).
		WithCompression(options.ZSTD)
	if dir == "" {
		opts = opts.WithInMemory(true)
	}
	db, err := badger.Open(opts)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("open cassette store %s: another process has it open (wait for it, or use another --cassette-db)", dir)
		}
		return nil, fmt.Errorf("open cassette store %s: %w", dir, err)
	}
	s := &Store{db: db, dir: dir, stop: make(chan struct{})}
	if dir != "" {
		s.done.Add(1)
		go s.collect()
	}
	return s, nil
}

// collect runs Badger's value-log GC on a schedule: Badger never reclaims
// the space of replaced or pruned values by itself.
func (s *Store) collect() {
	defer s.done.Done()
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.GC()
		}
	}
}

// GC reclaims value-log space until there is nothing worth rewriting.
func (s *Store) GC() {
	if s.dir == "" {
		return
	}
	for s.db.RunValueLogGC(0.5) == nil {
	}
}

// Close stops the GC schedule and closes the store.
func (s *Store) Close() error {
	close(s.stop)
	s.done.Wait()
	return s.db.Close()
}

// stored is an entry as Badger holds it.
type stored struct {
	Entry
	RequestBlob string `json:"request_blob"`
}

// Lookup returns the entry with key, without its request: what a replay
// needs, read with one Badger get.
func (s *Store) Lookup(key string) (Entry, bool, error) {
	if e, ok := s.entries.Load(key); ok {
		return e.(Entry), true, nil
	}
	var st stored
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(entryPrefix + key))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &st) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("cassette get %s: %w", key, err)
	}
	s.entries.Store(key, st.Entry)
	return st.Entry, true, nil
}

// Get returns the entry with key, its request included.
func (s *Store) Get(key string) (Entry, bool, error) {
	var st stored
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(entryPrefix + key))
		if err != nil {
			return err
		}
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &st) }); err != nil {
			return err
		}
		st.Request, err = s.request(txn, st.RequestBlob)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("cassette get %s: %w", key, err)
	}
	return st.Entry, true, nil
}

// request rebuilds a request from its blob and the tools blob it refers to.
func (s *Store) request(txn *badger.Txn, hash string) (json.RawMessage, error) {
	factored, err := blob(txn, hash)
	if err != nil {
		return nil, err
	}
	return expandTools(factored, func(h string) (json.RawMessage, error) { return blob(txn, h) })
}

func blob(txn *badger.Txn, hash string) (json.RawMessage, error) {
	item, err := txn.Get([]byte(blobPrefix + hash))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	return item.ValueCopy(nil)
}

// Hash names a blob: "sha256-" and the hex SHA-256 of its bytes.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + hex.EncodeToString(sum[:])
}

// blobRef is what stands for a tools array inside a stored request.
type blobRef struct {
	Blob string `json:"$blob"`
}

// factorTools replaces a canonical request's "tools" array by a reference to
// a blob, and returns the blob. Requests without tools come back as they are.
func factorTools(req json.RawMessage) (factored, tools json.RawMessage, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(req, &m); err != nil {
		return req, nil, nil // not an object: nothing to factor
	}
	t, ok := m["tools"]
	if !ok || len(t) == 0 || t[0] != '[' {
		return req, nil, nil
	}
	ref, _ := json.Marshal(blobRef{Hash(t)})
	m["tools"] = ref
	if factored, err = Canonical(m); err != nil {
		return nil, nil, err
	}
	return factored, t, nil
}

// expandTools undoes factorTools.
func expandTools(req json.RawMessage, get func(hash string) (json.RawMessage, error)) (json.RawMessage, error) {
	if !bytes.Contains(req, []byte(`"$blob"`)) {
		return req, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(req, &m); err != nil {
		return nil, err
	}
	var ref blobRef
	if t, ok := m["tools"]; !ok || json.Unmarshal(t, &ref) != nil || ref.Blob == "" {
		return req, nil
	}
	t, err := get(ref.Blob)
	if err != nil {
		return nil, err
	}
	m["tools"] = t
	return Canonical(m)
}

// Put stores an entry, replacing one with the same key.
func (s *Store) Put(e Entry) error {
	return s.putAll([]Entry{e}, nil)
}

// putAll writes entries and model identities in one batch.
func (s *Store) putAll(entries []Entry, models map[string]llm.ModelInfo) error {
	// A recording writes one entry at a time: a transaction commits it
	// faster than a write batch. Imports are too big for one transaction.
	if len(entries)+len(models) <= 16 {
		err := s.db.Update(func(txn *badger.Txn) error { return s.write(txn, entries, models) })
		if err != nil {
			return fmt.Errorf("cassette write: %w", err)
		}
	} else {
		wb := s.db.NewWriteBatch()
		defer wb.Cancel()
		if err := s.write(wb, entries, models); err != nil {
			return err
		}
		if err := wb.Flush(); err != nil {
			return fmt.Errorf("cassette write: %w", err)
		}
	}
	for _, e := range entries {
		e.Request = nil
		s.entries.Store(e.Key, e)
	}
	return nil
}

// setter is a Badger transaction or write batch.
type setter interface{ Set(k, v []byte) error }

func (s *Store) write(wb setter, entries []Entry, models map[string]llm.ModelInfo) error {
	written := map[string]bool{}
	putBlob := func(b json.RawMessage) (string, error) {
		h := Hash(b)
		if !written[h] {
			written[h] = true
			if err := wb.Set([]byte(blobPrefix+h), b); err != nil {
				return "", err
			}
		}
		return h, nil
	}
	for _, e := range entries {
		factored, tools, err := factorTools(e.Request)
		if err != nil {
			return fmt.Errorf("cassette put %s: %w", e.Key, err)
		}
		if tools != nil {
			if _, err := putBlob(tools); err != nil {
				return fmt.Errorf("cassette put %s: %w", e.Key, err)
			}
		}
		h, err := putBlob(factored)
		if err != nil {
			return fmt.Errorf("cassette put %s: %w", e.Key, err)
		}
		st := stored{Entry: e, RequestBlob: h}
		st.Request = nil
		b, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("cassette put %s: %w", e.Key, err)
		}
		if err := wb.Set([]byte(entryPrefix+e.Key), b); err != nil {
			return fmt.Errorf("cassette put %s: %w", e.Key, err)
		}
	}
	for name, info := range models {
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		if err := wb.Set([]byte(modelPrefix+name), b); err != nil {
			return err
		}
	}
	return nil
}

// PutModel stores what the server said of a model.
func (s *Store) PutModel(info llm.ModelInfo) error {
	return s.putAll(nil, map[string]llm.ModelInfo{info.Name: info})
}

// Model returns what the recording says of a model, if it has it.
func (s *Store) Model(name string) (llm.ModelInfo, bool, error) {
	var info llm.ModelInfo
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(modelPrefix + name))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &info) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return info, false, nil
	}
	if err != nil {
		return info, false, fmt.Errorf("cassette model %s: %w", name, err)
	}
	return info, true, nil
}

// Models returns every recorded model, sorted by name.
func (s *Store) Models() ([]llm.ModelInfo, error) {
	var out []llm.ModelInfo
	err := s.scan(modelPrefix, func(_, v []byte) error {
		var info llm.ModelInfo
		if err := json.Unmarshal(v, &info); err != nil {
			return err
		}
		out = append(out, info)
		return nil
	})
	slices.SortFunc(out, func(a, b llm.ModelInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

func (s *Store) scan(prefix string, fn func(key, value []byte) error) error {
	err := s.db.View(func(txn *badger.Txn) error { return s.scanIn(txn, prefix, fn) })
	if err != nil {
		return fmt.Errorf("cassette scan: %w", err)
	}
	return nil
}

// All returns every entry, requests included, in export order: model,
// scenario, epoch, lane, call, kind, key.
func (s *Store) All() ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(txn *badger.Txn) error {
		return s.scanIn(txn, entryPrefix, func(_, v []byte) error {
			var st stored
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			req, err := s.request(txn, st.RequestBlob)
			if err != nil {
				return fmt.Errorf("entry %s: %w", st.Key, err)
			}
			st.Entry.Request = req
			out = append(out, st.Entry)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("cassette scan: %w", err)
	}
	slices.SortFunc(out, compareEntries)
	return out, nil
}

func compareEntries(a, b Entry) int {
	if c := strings.Compare(a.Model, b.Model); c != 0 {
		return c
	}
	if c := strings.Compare(a.Scenario, b.Scenario); c != 0 {
		return c
	}
	if a.Epoch != b.Epoch {
		return a.Epoch - b.Epoch
	}
	if c := strings.Compare(a.Lane, b.Lane); c != 0 {
		return c
	}
	if a.Call != b.Call {
		return a.Call - b.Call
	}
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}

// Delete removes entries by key. Blobs no entry refers to any more are
// removed too.
func (s *Store) Delete(keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		s.entries.Delete(k)
		if err := wb.Delete([]byte(entryPrefix + k)); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("cassette delete: %w", err)
	}
	return s.dropOrphanBlobs()
}

func (s *Store) dropOrphanBlobs() error {
	live := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		return s.scanIn(txn, entryPrefix, func(_, v []byte) error {
			var st stored
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			live[st.RequestBlob] = true
			b, err := blob(txn, st.RequestBlob)
			if err != nil {
				return err
			}
			var m map[string]json.RawMessage
			var ref blobRef
			if json.Unmarshal(b, &m) == nil && json.Unmarshal(m["tools"], &ref) == nil && ref.Blob != "" {
				live[ref.Blob] = true
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("cassette prune: %w", err)
	}
	var dead [][]byte
	if err := s.scan(blobPrefix, func(k, _ []byte) error {
		if !live[string(k[len(blobPrefix):])] {
			dead = append(dead, slices.Clone(k))
		}
		return nil
	}); err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range dead {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	return wb.Flush()
}

func (s *Store) scanIn(txn *badger.Txn, prefix string, fn func(key, value []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: []byte(prefix)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
			return err
		}
	}
	return nil
}

// Sizes are what the store holds, in bytes of canonical JSON.
type Sizes struct {
	Entries int `json:"entries"`
	Models  int `json:"models"`
	Blobs   int `json:"blobs"`
	// Raw is the bytes of every request and response written out whole;
	// Stored the bytes actually kept once tools are shared.
	Raw    int64 `json:"raw_bytes"`
	Stored int64 `json:"stored_bytes"`
}

// Sizes counts what the store holds.
func (s *Store) Sizes() (Sizes, error) {
	var z Sizes
	blobSize := map[string]int64{}
	if err := s.scan(blobPrefix, func(k, v []byte) error {
		z.Blobs++
		blobSize[string(k[len(blobPrefix):])] = int64(len(v))
		z.Stored += int64(len(v))
		return nil
	}); err != nil {
		return z, err
	}
	entries, err := s.All()
	if err != nil {
		return z, err
	}
	for _, e := range entries {
		z.Entries++
		z.Raw += int64(len(e.Request) + len(e.Response))
		z.Stored += int64(len(e.Response))
	}
	models, err := s.Models()
	z.Models = len(models)
	return z, err
}

// Stats are a run's use of the cassettes.
type Stats struct {
	Mode     Mode `json:"mode"`
	Hits     int  `json:"hits"`
	Misses   int  `json:"misses"`
	Recorded int  `json:"recorded"`
	// Live counts calls sent to the model (recorded or passed through).
	Live int `json:"live"`
	// Used are the keys the run replayed or recorded.
	Used []string `json:"used,omitempty"`
}

// SaveLastRun keeps a run's stats in the store, for `cassette stats` and
// `cassette prune`.
func (s *Store) SaveLastRun(st Stats) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(lastRunKey), b) })
}

// LastRun returns the stats the last run saved, if any.
func (s *Store) LastRun() (Stats, bool, error) {
	var st Stats
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(lastRunKey))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &st) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return st, false, nil
	}
	return st, err == nil, err
}

// exportLine is one line of an export after the header: a model, a blob or
// an entry.
type exportLine struct {
	Type  string          `json:"type"`
	Model *llm.ModelInfo  `json:"model,omitempty"`
	Hash  string          `json:"hash,omitempty"`
	JSON  json.RawMessage `json:"json,omitempty"`
	Entry *Entry          `json:"entry,omitempty"`
}

type exportHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// Export writes the header line, then the models, the shared tools blobs
// (by hash) and the entries (in export order), one canonical JSON line
// each: the same store always gives the same bytes.
func (s *Store) Export(w io.Writer) error {
	entries, err := s.All()
	if err != nil {
		return err
	}
	models, err := s.Models()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := writeLine(bw, exportHeader{ExportFormat, ExportVersion}); err != nil {
		return err
	}
	for i := range models {
		if err := writeLine(bw, exportLine{Type: "model", Model: &models[i]}); err != nil {
			return err
		}
	}
	blobs := map[string]json.RawMessage{}
	for i := range entries {
		factored, tools, err := factorTools(entries[i].Request)
		if err != nil {
			return err
		}
		if tools != nil {
			blobs[Hash(tools)] = tools
		}
		entries[i].Request = factored
	}
	for _, h := range slices.Sorted(maps.Keys(blobs)) {
		if err := writeLine(bw, exportLine{Type: "blob", Hash: h, JSON: blobs[h]}); err != nil {
			return err
		}
	}
	for i := range entries {
		if err := writeLine(bw, exportLine{Type: "entry", Entry: &entries[i]}); err != nil {
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
	_, err = w.Write(append(b, '\n'))
	return err
}

// Import reads an export (plain or gzip) into the store and returns the
// number of entries. Every line is checked before anything is written: a
// malformed or truncated file, or an entry whose key does not match its
// request, rejects the whole file, naming the line, and leaves the store as
// it was.
func (s *Store) Import(name string, r io.Reader) (int, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	var entries []Entry
	models := map[string]llm.ModelInfo{}
	blobs := map[string]json.RawMessage{}
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
				return 0, fmt.Errorf("%s:1: cassette export version %d, this build reads %d: re-record it with --mode record", name, h.Version, ExportVersion)
			}
			continue
		}
		if len(text) == 0 {
			continue
		}
		var l exportLine
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return 0, fmt.Errorf("%s:%d: bad line: %w", name, line, err)
		}
		switch {
		case l.Type == "model" && l.Model != nil && l.Model.Name != "":
			models[l.Model.Name] = *l.Model
		case l.Type == "blob" && len(l.JSON) > 0:
			c, err := CanonicalBytes(l.JSON)
			if err != nil || Hash(c) != l.Hash {
				return 0, fmt.Errorf("%s:%d: blob %s does not match its hash (edited by hand? re-record it)", name, line, l.Hash)
			}
			blobs[l.Hash] = c
		case l.Type == "entry" && l.Entry != nil:
			e := *l.Entry
			req, err := expandTools(e.Request, func(h string) (json.RawMessage, error) {
				b, ok := blobs[h]
				if !ok {
					return nil, fmt.Errorf("blob %s is not in the file before this line", h)
				}
				return b, nil
			})
			if err != nil {
				return 0, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			e.Request = req
			if err := e.Check(); err != nil {
				return 0, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			entries = append(entries, e)
		default:
			return 0, fmt.Errorf("%s:%d: bad line: want a model, blob or entry", name, line)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if line == 0 {
		return 0, fmt.Errorf("%s: empty file, not a cassette export", name)
	}
	for _, e := range entries {
		if _, ok := models[e.Model]; !ok {
			return 0, fmt.Errorf("%s: entries of model %s, but no model line for it", name, e.Model)
		}
	}
	if err := s.putAll(entries, models); err != nil {
		return 0, fmt.Errorf("import %s: %w", name, err)
	}
	return len(entries), nil
}

// Check verifies that the entry is whole and its key is its request's.
func (e Entry) Check() error {
	if e.Kind == "" || len(e.Request) == 0 || len(e.Response) == 0 {
		return errors.New("entry lacks kind, request or response")
	}
	req, err := CanonicalBytes(e.Request)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if want := Key(e.Kind, e.Identity(), e.Epoch, e.Lane, e.Call, req); want != e.Key {
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
// file or the new one, never half of one. A path ending in .gz is written
// gzip-compressed, reproducibly (no name or time in the gzip header).
func (s *Store) ExportFile(path string) error {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w = zw
	}
	if err := s.Export(w); err != nil {
		return fmt.Errorf("export cassettes %s: %w", path, err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("export cassettes %s: %w", path, err)
		}
	}
	return atomicfile.Write(path, buf.Bytes())
}
