package tinyllm

import (
	"container/heap"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var remerge = flag.Bool("merges", false, "retrain merges.txt from testdata/corpus.txt (changes the model)")

// numMerges is how many merges TestMerges trains.
const numMerges = 6000

// corpusFile holds the text the merges are trained on: the distinct
// "<|im_start|>…<|im_end|>" segments of the prompts of the reference run
// (cassettes/reference.jsonl), rendered with Template by Ollama's template
// package: the agents' system prompts, the 33 tools as the template renders
// them, questions, tool calls and tool results.
var corpusFile = filepath.Join("testdata", "corpus.txt")

// TestMerges checks that merges.txt is what training on the corpus gives,
// and with -merges rewrites it.
func TestMerges(t *testing.T) {
	corpus, err := os.ReadFile(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	merges := trainBPE(string(corpus), numMerges)
	text := strings.Join(merges, "\n") + "\n"
	if *remerge {
		if err := os.WriteFile("merges.txt", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		mergesText = text
	}
	if text != mergesText {
		t.Fatalf("merges.txt is not what %s trains (%d merges); run go test -run TestMerges -merges to retrain it (this changes the model and its digest)", corpusFile, len(merges))
	}
	v, err := baseVocab()
	if err != nil {
		t.Fatal(err)
	}
	bytesOnly := &vocab{ids: map[string]int{}}
	n, n0 := len(v.tokenize(string(corpus), v.ranks())), len(bytesOnly.tokenize(string(corpus), nil))
	t.Logf("%d merges, %d tokens; corpus of %d bytes: %d tokens with the merges, %d without (%.2f bytes a token)",
		len(v.merges), len(v.tokens), len(corpus), n, n0, float64(len(corpus))/float64(n))
	// The longest segment is the ReAct agent's system prompt with the 33
	// tools: the bulk of every harness prompt.
	longest := ""
	for _, seg := range strings.SplitAfter(string(corpus), tokIMEnd) {
		if len(seg) > len(longest) {
			longest = seg
		}
	}
	nl := len(v.tokenize(longest, v.ranks()))
	t.Logf("longest segment: %d bytes, %d tokens with the merges, %d without", len(longest), nl, len(bytesOnly.tokenize(longest, nil)))
	if nl > NumCtx*3/4 {
		t.Errorf("the longest segment takes %d tokens, more than 3/4 of num_ctx %d", nl, NumCtx)
	}
}

// trainBPE learns up to n merges from text, GPT-2 style: within the
// pre-tokenizer's pieces, repeatedly join the most frequent adjacent pair
// (ties: the smaller pair in byte order), until no pair occurs twice.
func trainBPE(text string, n int) []string {
	counts := map[string]int{}
	for text != "" {
		at, special := len(text), ""
		for _, s := range specials {
			if i := strings.Index(text, s.text); i >= 0 && (i < at || i == at && len(s.text) > len(special)) {
				at, special = i, s.text
			}
		}
		for _, piece := range pretokenize(text[:at]) {
			counts[tokenText(piece)]++
		}
		if special == "" {
			break
		}
		text = text[at+len(special):]
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys) // word indices must not depend on map order
	type word struct {
		syms  []string
		count int
	}
	words := make([]word, len(keys))
	for i, k := range keys {
		for _, r := range k {
			words[i].syms = append(words[i].syms, string(r))
		}
		words[i].count = counts[k]
	}
	pairs := map[[2]string]int{}
	where := map[[2]string]map[int]bool{}
	h := &pairHeap{}
	add := func(w int, sign int) {
		s := words[w].syms
		for i := 0; i+1 < len(s); i++ {
			p := [2]string{s[i], s[i+1]}
			pairs[p] += sign * words[w].count
			if sign > 0 {
				if where[p] == nil {
					where[p] = map[int]bool{}
				}
				where[p][w] = true
			}
			heap.Push(h, pairCount{p, pairs[p]})
		}
	}
	for w := range words {
		add(w, 1)
	}
	var merges []string
	learned := map[string]bool{}
	for len(merges) < n && h.Len() > 0 {
		top := heap.Pop(h).(pairCount)
		if pairs[top.pair] != top.count {
			continue // stale
		}
		if top.count < 2 {
			break
		}
		p := top.pair
		if line := p[0] + " " + p[1]; !learned[line] {
			learned[line] = true
			merges = append(merges, line)
		}
		ws := make([]int, 0, len(where[p]))
		for w := range where[p] {
			ws = append(ws, w)
		}
		delete(where, p)
		for _, w := range ws {
			add(w, -1)
			s := words[w].syms
			var out []string
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == p[0] && s[i+1] == p[1] {
					out = append(out, p[0]+p[1])
					i++
					continue
				}
				out = append(out, s[i])
			}
			words[w].syms = out
			add(w, 1)
		}
	}
	return merges
}

type pairCount struct {
	pair  [2]string
	count int
}

type pairHeap []pairCount

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	if h[i].pair[0] != h[j].pair[0] {
		return h[i].pair[0] < h[j].pair[0]
	}
	return h[i].pair[1] < h[j].pair[1]
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairCount)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
