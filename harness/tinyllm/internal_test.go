package tinyllm

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

func halfToFloat(h uint16) float32 {
	sign := float32(1)
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 0x1f
	m := float32(h & 0x3ff)
	switch e {
	case 0:
		return sign * m / (1 << 24)
	case 31:
		if m != 0 {
			return float32(math.NaN())
		}
		return sign * float32(math.Inf(1))
	}
	return sign * (1 + m/1024) * float32(math.Pow(2, float64(e-15)))
}

func TestF16(t *testing.T) {
	for h := range 1 << 16 {
		f := halfToFloat(uint16(h))
		if f != f {
			continue
		}
		if got := f16(f); got != uint16(h) && !(f == 0 && got&0x7fff == 0) {
			t.Fatalf("f16(%g) = %#04x, want %#04x", f, got, h)
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e-8, 0},
		{1 + 1.0/2048, 0x3c00},          // tie to even
		{1 + 3.0/2048, 0x3c02},          // tie to even, upwards
		{5.960464477539063e-08, 0x0001}, // smallest subnormal
	} {
		if got := f16(c.f); got != c.want {
			t.Errorf("f16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestPretokenize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"I'm here", []string{"I", "'m", " here"}},
		{`{"name": "iot.history", "n": 2020}`, []string{`{"`, "name", `":`, ` "`, "iot", ".history", `",`, ` "`, "n", `":`, " ", "2", "0", "2", "0", "}"}},
		{"a\n\nb", []string{"a", "\n\n", "b"}},
		{"a  b", []string{"a", " ", " b"}},
		{"end  ", []string{"end", "  "}},
		{"x \n y", []string{"x", " \n", " y"}},
		{"12.5 °C", []string{"1", "2", ".", "5", " °", "C"}},
		{"τ ≈ 3", []string{"τ", " ≈", " ", "3"}},
	} {
		if got := pretokenize(c.in); !slices.Equal(got, c.want) {
			t.Errorf("pretokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokenText(t *testing.T) {
	for _, raw := range []string{"Hello world", "12.5 °C; τ ≈ 3 s\n\t\x00\xff", ""} {
		text := tokenText(raw)
		back, err := tokenBytes(text)
		if err != nil || back != raw {
			t.Errorf("%q -> %q -> %q, %v", raw, text, back, err)
		}
	}
	if got := tokenText(" \n°"); got != "ĠĊÂ°" {
		t.Errorf("tokenText = %q", got)
	}
}

// TestBigram computes, from the tensors as written (F16), the logits that
// every token gives as the last prompt token, and checks that greedy
// decoding follows the script with wide margins.
func TestBigram(t *testing.T) {
	s := Script{
		ToolCalls: []Call{{Name: "iot.sites", Arguments: []byte(`{}`)}},
		Answer:    "The answer.",
		Reply:     "Hello.",
	}
	m, err := build(s)
	if err != nil {
		t.Fatal(err)
	}
	ts := m.tensors()
	read := func(name string) []float32 {
		for _, tn := range ts {
			if tn.Name != name {
				continue
			}
			var b bytes.Buffer
			if _, err := tn.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			h := make([]uint16, b.Len()/2)
			if err := binary.Read(&b, binary.LittleEndian, h); err != nil {
				t.Fatal(err)
			}
			f := make([]float32, len(h))
			for i, x := range h {
				f[i] = halfToFloat(x)
			}
			return f
		}
		t.Fatalf("no tensor %s", name)
		return nil
	}
	embed, out := read("token_embd.weight"), read("output.weight")
	n := len(m.tokens)
	want := make([]int, n)
	for i := range want {
		want[i] = m.eos
	}
	for _, nx := range m.next {
		want[nx.mode] = nx.out
	}
	minMargin := math.Inf(1)
	for tok := range n {
		e := embed[tok*embd : (tok+1)*embd]
		var ss float64
		for _, x := range e {
			ss += float64(x) * float64(x)
		}
		scale := 1 / math.Sqrt(ss/embd+1e-6)
		best, second, arg := math.Inf(-1), math.Inf(-1), -1
		for v := range n {
			var l float64
			for i := range embd {
				l += float64(out[v*embd+i]) * float64(e[i]) * scale
			}
			if l > best {
				best, second, arg = l, best, v
			} else if l > second {
				second = l
			}
		}
		if arg != want[tok] {
			t.Fatalf("after %q the model says %q, want %q", m.tokens[tok], m.tokens[arg], m.tokens[want[tok]])
		}
		minMargin = min(minMargin, best-second)
	}
	if minMargin < 4 {
		t.Errorf("smallest logit margin %.2f", minMargin)
	}
	t.Logf("%d tokens, smallest margin %.2f", n, minMargin)
}

func TestMergesAreConsistent(t *testing.T) {
	v, err := baseVocab()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.merges) == 0 {
		t.Fatal("no merges")
	}
	ranks := v.ranks()
	for _, text := range []string{
		`{"type": "function", "function": {"name":"iot.history","description":"Telemetry of an asset"}}`,
		"Chiller 9 at MAIN has 4 Chiller Efficiency readings; the highest is 0.625 kW/ton.",
		"unseen wörds: ζ, 温度, emoji 🙂",
	} {
		var got string
		for _, tok := range v.tokenize(text, ranks) {
			if _, ok := v.ids[tok]; !ok {
				t.Fatalf("%q: %q is not a token", text, tok)
			}
			raw, err := tokenBytes(tok)
			if err != nil {
				t.Fatal(err)
			}
			got += raw
		}
		if got != text {
			t.Errorf("tokens of %q spell %q", text, got)
		}
	}
}
