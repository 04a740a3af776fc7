package tinyllm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"

	"github.com/ollama/ollama/fs/ggml"
)

// Weights. The embedding of mode token i is 1 in dimension 1+i and 0
// elsewhere; every other token has 1 in dimension 0 (the feature the
// <|im_end|> row reads) and seeded noise of squared norm embd/2-1 in the
// dimensions after the mode dimensions (what attention works on). After the
// RMS norm a mode token is √embd in its dimension, any other token √2 in
// dimension 0. The output row of the token a mode produces reads that mode's
// dimension, the <|im_end|> row reads dimension 0, all other rows are zero.
// So the logits are, after a mode token, 10 for its scripted token and 0 for
// all others; after any other token, 5 for <|im_end|> and 0 for the rest.
// The attention and feed-forward output projections are zero: the last
// hidden state is the last token's embedding, whatever precedes it.
const (
	noiseDim  = 1 + 3      // dimension 0, then one per mode token
	noiseNorm = embd/2 - 1 // squared norm of the noise
	weightStd = 0.02       // attention and feed-forward inputs
)

var (
	modeTokens = [3]string{tokToolMode, tokAnswerMode, tokReplyMode}
	nextGain   = 10 / math.Sqrt(embd) // the scripted token's logit is 10
	eosGain    = 5 / math.Sqrt2       // <|im_end|>'s logit after other tokens is 5
)

const (
	kindF32 = 0
	kindF16 = 1
)

func (m *model) tensors() []*ggml.Tensor {
	n := len(m.tokens)
	embed := make([]float32, n*embd)
	out := make([]float32, n*embd)
	r := newRNG("token_embd.weight")
	modeDim := map[int]int{}
	for i, mt := range modeTokens {
		modeDim[m.ids[mt]] = 1 + i
	}
	for t := range n {
		row := embed[t*embd : (t+1)*embd]
		noise := make([]float64, embd-noiseDim)
		var ss float64
		for i := range noise {
			noise[i] = r.normal()
			ss += float64(noise[i] * noise[i]) // the conversion forbids fusing into an FMA
		}
		if d, ok := modeDim[t]; ok {
			row[d] = 1
			continue
		}
		row[0] = 1
		scale := math.Sqrt(noiseNorm / ss)
		for i, z := range noise {
			row[noiseDim+i] = float32(z * scale)
		}
	}
	out[m.eos*embd] = float32(eosGain)
	for i, nx := range m.next {
		if nx.mode != m.ids[modeTokens[i]] {
			panic("tinyllm: mode tokens out of order")
		}
		out[nx.out*embd+1+i] += float32(nextGain)
	}
	ts := []*ggml.Tensor{
		f16Tensor("token_embd.weight", embed, embd, n),
		f16Tensor("output.weight", out, embd, n),
		f32Tensor("output_norm.weight", ones(embd), embd),
	}
	kv := kvHeads * headDim
	for l := range layers {
		name := func(s string) string { return fmt.Sprintf("blk.%d.%s.weight", l, s) }
		ts = append(ts,
			f32Tensor(name("attn_norm"), ones(embd), embd),
			f16Tensor(name("attn_q"), random(name("attn_q"), embd*embd), embd, embd),
			f16Tensor(name("attn_k"), random(name("attn_k"), embd*kv), embd, kv),
			f16Tensor(name("attn_v"), random(name("attn_v"), embd*kv), embd, kv),
			f16Tensor(name("attn_output"), make([]float32, embd*embd), embd, embd),
			f32Tensor(name("ffn_norm"), ones(embd), embd),
			f16Tensor(name("ffn_gate"), random(name("ffn_gate"), embd*ff), embd, ff),
			f16Tensor(name("ffn_up"), random(name("ffn_up"), embd*ff), embd, ff),
			f16Tensor(name("ffn_down"), make([]float32, ff*embd), ff, embd),
		)
	}
	return ts
}

func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func random(name string, n int) []float32 {
	r := newRNG(name)
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.normal() * weightStd)
	}
	return v
}

func f16Tensor(name string, v []float32, shape ...int) *ggml.Tensor {
	var b bytes.Buffer
	for _, x := range v {
		_ = binary.Write(&b, binary.LittleEndian, f16(x))
	}
	return &ggml.Tensor{Name: name, Kind: kindF16, Shape: dims(shape), WriterTo: bytes.NewReader(b.Bytes())}
}

func f32Tensor(name string, v []float32, shape ...int) *ggml.Tensor {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, v)
	return &ggml.Tensor{Name: name, Kind: kindF32, Shape: dims(shape), WriterTo: bytes.NewReader(b.Bytes())}
}

func dims(shape []int) []uint64 {
	d := make([]uint64, len(shape))
	for i, n := range shape {
		d[i] = uint64(n)
	}
	return d
}

// rng is splitmix64 seeded from the package seed and a tensor name: integer
// arithmetic only, the same on every machine.
type rng struct{ s uint64 }

func newRNG(name string) *rng {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &rng{s: seed ^ h.Sum64()}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// normal is an Irwin–Hall approximation of N(0,1): the sum of twelve
// uniform 32-bit integers, centred and scaled by 2^-32, exact in float64.
func (r *rng) normal() float64 {
	var sum int64
	for range 12 {
		sum += int64(r.next() >> 32)
	}
	return float64(sum-6<<32) / (1 << 32)
}

// f16 rounds to the nearest IEEE half (ties to even).
func f16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	e := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if e == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	exp := e - 127 + 15
	if exp >= 31 {
		return sign | 0x7c00
	}
	if exp <= 0 {
		if exp < -10 {
			return sign
		}
		full := mant | 0x800000
		shift := uint(14 - exp)
		r := full >> shift
		rem := full & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || rem == half && r&1 == 1 {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && r&1 == 1 {
		r++
	}
	return sign | uint16(r)
}
