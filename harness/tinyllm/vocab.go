package tinyllm

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
)

// The vocabulary is GPT-2's byte-level BPE ("gpt2" in GGUF terms, with the
// "qwen2" pre-tokenizer): every byte is a token, spelled with GPT-2's
// byte-to-unicode mapping (space is 'Ġ', newline 'Ċ', byte 0xCF is 'Ï'); the
// merges of merges.txt join frequent pieces of the harness's prompts into
// longer tokens; then come the ChatML specials and the scripted strings.

// byteRune is GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for
// themselves, the others are shifted to U+0100 and up.
var byteRune [256]rune

// runeByte inverts byteRune.
var runeByte = map[rune]byte{}

func init() {
	n := 0
	for b := range 256 {
		switch {
		case b >= '!' && b <= '~', b >= 0xA1 && b <= 0xAC, b >= 0xAE && b <= 0xFF:
			byteRune[b] = rune(b)
		default:
			byteRune[b] = rune(256 + n)
			n++
		}
		runeByte[byteRune[b]] = byte(b)
	}
}

// tokenText spells raw bytes the way a gpt2 vocabulary stores them.
func tokenText(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		b.WriteRune(byteRune[raw[i]])
	}
	return b.String()
}

// tokenBytes turns a vocabulary string back into the bytes it stands for,
// as llama.cpp does when it detokenizes a normal token.
func tokenBytes(text string) (string, error) {
	var b strings.Builder
	for _, r := range text {
		c, ok := runeByte[r]
		if !ok {
			return "", fmt.Errorf("tinyllm: %q is not a byte-level token", text)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// Special tokens. The three mode tokens are never written by a user: the
// TEMPLATE appends one after the last "<|im_start|>assistant\n" and the
// output matrix maps each to the scripted text.
const (
	tokEndOfText   = "<|endoftext|>"
	tokIMStart     = "<|im_start|>"
	tokIMEnd       = "<|im_end|>"
	tokToolMode    = "<|tool_mode|>"
	tokAnswerMode  = "<|answer_mode|>"
	tokReplyMode   = "<|reply_mode|>"
	tokToolCall    = "<tool_call>"
	tokToolCallEnd = "</tool_call>"
)

// GGUF token types (llama.cpp's llama_token_type).
const (
	typeNormal      = 1
	typeControl     = 3
	typeUserDefined = 4
)

var specials = []struct {
	text string
	typ  int32
}{
	{tokEndOfText, typeControl},
	{tokIMStart, typeControl},
	{tokIMEnd, typeControl},
	{tokToolMode, typeControl},
	{tokAnswerMode, typeControl},
	{tokReplyMode, typeControl},
	{tokToolCall, typeUserDefined},
	{tokToolCallEnd, typeUserDefined},
	{"<tool_response>", typeUserDefined},
	{"</tool_response>", typeUserDefined},
	{"<tools>", typeUserDefined},
	{"</tools>", typeUserDefined},
}

// mergesText holds the BPE merges, one "left right" pair a line in rank
// order, trained on testdata/corpus.txt (see TestMerges).
//
//go:embed merges.txt
var mergesText string

// vocab is a gpt2 vocabulary under construction.
type vocab struct {
	tokens []string
	types  []int32
	merges []string
	ids    map[string]int
}

func (v *vocab) add(text string, typ int32) int {
	if id, ok := v.ids[text]; ok {
		return id
	}
	v.ids[text] = len(v.tokens)
	v.tokens = append(v.tokens, text)
	v.types = append(v.types, typ)
	return len(v.tokens) - 1
}

// baseVocab is the part of the vocabulary that does not depend on the
// script: the 256 bytes, the merged tokens and the specials.
func baseVocab() (*vocab, error) {
	v := &vocab{ids: map[string]int{}}
	for b := range 256 {
		v.add(string(byteRune[b]), typeNormal)
	}
	for i, line := range strings.Split(strings.TrimSpace(mergesText), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		left, right, ok := strings.Cut(line, " ")
		if !ok || left == "" || right == "" || strings.Contains(right, " ") {
			return nil, fmt.Errorf("tinyllm: merges.txt line %d: %q is not a pair", i+1, line)
		}
		for _, part := range []string{left, right} {
			if _, ok := v.ids[part]; !ok {
				return nil, fmt.Errorf("tinyllm: merges.txt line %d: %q is not a token yet", i+1, part)
			}
		}
		v.add(left+right, typeNormal)
		v.merges = append(v.merges, line)
	}
	for _, s := range specials {
		if _, ok := v.ids[s.text]; ok {
			return nil, fmt.Errorf("tinyllm: special token %q is already a merged token", s.text)
		}
		v.add(s.text, s.typ)
	}
	return v, nil
}

// ranks maps a merge "left right" to its rank.
func (v *vocab) ranks() map[[2]string]int {
	r := make(map[[2]string]int, len(v.merges))
	for i, m := range v.merges {
		left, right, _ := strings.Cut(m, " ")
		r[[2]string{left, right}] = i
	}
	return r
}

// tokenize splits text the way llama.cpp does for this vocabulary: special
// tokens first, then the qwen2 pre-tokenizer, then BPE within each piece.
// It returns vocabulary strings. It is used to measure the merges offline;
// the server's own count is the reference.
func (v *vocab) tokenize(text string, ranks map[[2]string]int) []string {
	var out []string
	for text != "" {
		at, special := len(text), ""
		for _, s := range specials {
			if i := strings.Index(text, s.text); i >= 0 && (i < at || i == at && len(s.text) > len(special)) {
				at, special = i, s.text
			}
		}
		for _, piece := range pretokenize(text[:at]) {
			out = append(out, bpe(tokenText(piece), ranks)...)
		}
		if special == "" {
			break
		}
		out = append(out, special)
		text = text[at+len(special):]
	}
	return out
}

// bpe merges the byte symbols of one pre-token, lowest rank first and
// leftmost first among equals, like llama.cpp's llm_tokenizer_bpe.
func bpe(word string, ranks map[[2]string]int) []string {
	var syms []string
	for _, r := range word {
		syms = append(syms, string(r))
	}
	for len(syms) > 1 {
		best, at := -1, -1
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := ranks[[2]string{syms[i], syms[i+1]}]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		syms[at] += syms[at+1]
		syms = append(syms[:at+1], syms[at+2:]...)
	}
	return syms
}

// pretokenize splits text with the qwen2 pre-tokenizer regex:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func pretokenize(text string) []string {
	var rs []rune
	for _, r := range text {
		rs = append(rs, r)
	}
	isL := func(i int) bool { return i < len(rs) && unicode.IsLetter(rs[i]) }
	isN := func(i int) bool { return i < len(rs) && unicode.IsNumber(rs[i]) }
	isS := func(i int) bool { return i < len(rs) && unicode.IsSpace(rs[i]) }
	isNL := func(i int) bool { return i < len(rs) && (rs[i] == '\r' || rs[i] == '\n') }
	isP := func(i int) bool { return i < len(rs) && !isL(i) && !isN(i) && !isS(i) }
	var out []string
	for i := 0; i < len(rs); {
		j := matchAt(rs, i, isL, isN, isS, isNL, isP)
		out = append(out, string(rs[i:j]))
		i = j
	}
	return out
}

func matchAt(rs []rune, i int, isL, isN, isS, isNL, isP func(int) bool) int {
	// contractions
	if rs[i] == '\'' && i+1 < len(rs) {
		lower := func(k int) rune {
			if k < len(rs) {
				return unicode.ToLower(rs[k])
			}
			return 0
		}
		switch lower(i + 1) {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if lower(i+2) == 'e' {
				return i + 3
			}
		case 'l':
			if lower(i+2) == 'l' {
				return i + 3
			}
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	j := i
	if !isL(j) && !isN(j) && !isNL(j) && isL(j+1) {
		j++
	}
	if isL(j) {
		for isL(j) {
			j++
		}
		return j
	}
	// \p{N}
	if isN(i) {
		return i + 1
	}
	// ' '?[^\s\p{L}\p{N}]+[\r\n]*
	j = i
	if rs[j] == ' ' && isP(j+1) {
		j++
	}
	if isP(j) {
		for isP(j) {
			j++
		}
		for isNL(j) {
			j++
		}
		return j
	}
	// whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
	end := i
	for isS(end) {
		end++
	}
	lastNL := -1
	for k := i; k < end; k++ {
		if isNL(k) {
			lastNL = k
		}
	}
	if lastNL >= 0 {
		return lastNL + 1
	}
	if end == len(rs) || end-i == 1 {
		return end
	}
	return end - 1
}
