package cassette

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// KeyVersion changes whenever what goes into a key changes, so that old
// cassettes miss loudly instead of matching by accident. Version 2 added the
// model's digest and the server's version.
const KeyVersion = 2

// Canonical encodes v as canonical JSON: object keys sorted, no
// insignificant space, numbers in their shortest form (1.0 and 1e0 are both
// 1), strings with only the escapes JSON requires. Two values that mean the
// same get the same bytes.
func Canonical(v any) (json.RawMessage, error) {
	buf := encoders.Get().(*bytes.Buffer)
	defer encoders.Put(buf)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return CanonicalBytes(bytes.TrimRight(buf.Bytes(), "\n"))
}

var encoders = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// CanonicalBytes re-encodes JSON text canonically (see Canonical). It is a
// hand-written scanner, not a decode into interfaces: replaying a call
// canonicalises its whole request, and this is most of what a replay costs.
func CanonicalBytes(in []byte) (json.RawMessage, error) {
	c := canon{in: in}
	out, err := c.value(make([]byte, 0, len(in)))
	if err != nil {
		return nil, err
	}
	c.space()
	if c.i != len(c.in) {
		return nil, fmt.Errorf("canonical json: trailing data at byte %d", c.i)
	}
	return out, nil
}

type canon struct {
	in []byte
	i  int
}

var errJSON = errors.New("canonical json: invalid JSON")

func (c *canon) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errJSON, what, c.i)
}

func (c *canon) space() {
	for c.i < len(c.in) {
		switch c.in[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 10000

func (c *canon) value(out []byte) ([]byte, error) { return c.valueAt(out, 0) }

func (c *canon) valueAt(out []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, c.fail("nesting too deep")
	}
	c.space()
	if c.i >= len(c.in) {
		return nil, c.fail("unexpected end")
	}
	switch b := c.in[c.i]; {
	case b == '{':
		return c.object(out, depth)
	case b == '[':
		c.i++
		out = append(out, '[')
		c.space()
		if c.i < len(c.in) && c.in[c.i] == ']' {
			c.i++
			return append(out, ']'), nil
		}
		for {
			var err error
			if out, err = c.valueAt(out, depth+1); err != nil {
				return nil, err
			}
			c.space()
			if c.i >= len(c.in) {
				return nil, c.fail("unterminated array")
			}
			if c.in[c.i] == ']' {
				c.i++
				return append(out, ']'), nil
			}
			if c.in[c.i] != ',' {
				return nil, c.fail("want , or ]")
			}
			c.i++
			out = append(out, ',')
		}
	case b == '"':
		s, err := c.str()
		if err != nil {
			return nil, err
		}
		return appendString(out, s), nil
	case b == '-' || b >= '0' && b <= '9':
		return c.number(out)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(c.in[c.i:], []byte(lit)) {
				c.i += len(lit)
				return append(out, lit...), nil
			}
		}
		return nil, c.fail("unexpected character")
	}
}

type member struct {
	key   string
	value []byte
}

func (c *canon) object(out []byte, depth int) ([]byte, error) {
	c.i++ // {
	var members []member
	c.space()
	if c.i < len(c.in) && c.in[c.i] == '}' {
		c.i++
		return append(out, '{', '}'), nil
	}
	for {
		c.space()
		if c.i >= len(c.in) || c.in[c.i] != '"' {
			return nil, c.fail("want an object key")
		}
		k, err := c.str()
		if err != nil {
			return nil, err
		}
		c.space()
		if c.i >= len(c.in) || c.in[c.i] != ':' {
			return nil, c.fail("want :")
		}
		c.i++
		v, err := c.valueAt(nil, depth+1)
		if err != nil {
			return nil, err
		}
		members = append(members, member{k, v})
		c.space()
		if c.i >= len(c.in) {
			return nil, c.fail("unterminated object")
		}
		if c.in[c.i] == '}' {
			c.i++
			break
		}
		if c.in[c.i] != ',' {
			return nil, c.fail("want , or }")
		}
		c.i++
	}
	slices.SortStableFunc(members, func(a, b member) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	out = append(out, '{')
	for i, m := range members {
		// A duplicate key: the last one wins, as encoding/json decodes it.
		if i+1 < len(members) && members[i+1].key == m.key {
			continue
		}
		if len(out) > 0 && out[len(out)-1] != '{' {
			out = append(out, ',')
		}
		out = appendString(out, m.key)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}'), nil
}

// str reads a string literal and returns its value.
func (c *canon) str() (string, error) {
	c.i++ // opening quote
	start := c.i
	// Fast path: no escapes.
	for c.i < len(c.in) {
		b := c.in[c.i]
		if b == '"' {
			s := c.in[start:c.i]
			c.i++
			return validUTF8(s), nil
		}
		if b == '\\' || b < 0x20 {
			break
		}
		c.i++
	}
	var sb []byte
	sb = append(sb, c.in[start:c.i]...)
	for c.i < len(c.in) {
		b := c.in[c.i]
		switch {
		case b == '"':
			c.i++
			return validUTF8(sb), nil
		case b < 0x20:
			return "", c.fail("control character in string")
		case b != '\\':
			sb = append(sb, b)
			c.i++
			continue
		}
		if c.i+1 >= len(c.in) {
			return "", c.fail("unterminated escape")
		}
		e := c.in[c.i+1]
		c.i += 2
		switch e {
		case '"', '\\', '/':
			sb = append(sb, e)
		case 'b':
			sb = append(sb, '\b')
		case 'f':
			sb = append(sb, '\f')
		case 'n':
			sb = append(sb, '\n')
		case 'r':
			sb = append(sb, '\r')
		case 't':
			sb = append(sb, '\t')
		case 'u':
			r, ok := c.hex4()
			if !ok {
				return "", c.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if c.i+1 < len(c.in) && c.in[c.i] == '\\' && c.in[c.i+1] == 'u' {
					save := c.i
					c.i += 2
					if lo, ok := c.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							c.i = save
						}
					} else {
						c.i = save
					}
				}
				r = r2
			}
			sb = utf8.AppendRune(sb, r)
		default:
			return "", c.fail("bad escape")
		}
	}
	return "", c.fail("unterminated string")
}

// validUTF8 replaces each invalid byte by U+FFFD, as encoding/json decodes.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		out = utf8.AppendRune(out, r)
		b = b[size:]
	}
	return string(out)
}

func (c *canon) hex4() (rune, bool) {
	if c.i+4 > len(c.in) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(c.in[c.i:c.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	c.i += 4
	return rune(n), true
}

// appendString writes s, valid UTF-8, as a JSON string with only the
// escapes JSON needs (and U+2028/U+2029, which break JavaScript). Runs of
// plain bytes are copied whole: this is the hot loop of every replay.
func appendString(out []byte, s string) []byte {
	out = append(out, '"')
	run := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b >= 0x20 && b != '"' && b != '\\' && b != 0xE2 {
			i++
			continue
		}
		if b == 0xE2 {
			// U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				out = append(out, s[run:i]...)
				out = append(out, `\u202`...)
				out = append(out, "89"[s[i+2]-0xA8])
				i += 3
				run = i
				continue
			}
			i++
			continue
		}
		out = append(out, s[run:i]...)
		switch b {
		case '"', '\\':
			out = append(out, '\\', b)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', "0123456789abcdef"[b>>4], "0123456789abcdef"[b&0xf])
		}
		i++
		run = i
	}
	out = append(out, s[run:]...)
	return append(out, '"')
}

// number writes a number literal in its shortest form: integers that fit
// int64 as written, everything else as the shortest float64 that
// round-trips, formatted as encoding/json formats floats.
func (c *canon) number(out []byte) ([]byte, error) {
	start := c.i
	if c.in[c.i] == '-' {
		c.i++
	}
	digits := func() int {
		n := 0
		for c.i < len(c.in) && c.in[c.i] >= '0' && c.in[c.i] <= '9' {
			c.i++
			n++
		}
		return n
	}
	lead := c.i
	if digits() == 0 || c.in[lead] == '0' && c.i-lead > 1 {
		return nil, c.fail("bad number")
	}
	integer := true
	if c.i < len(c.in) && c.in[c.i] == '.' {
		c.i++
		integer = false
		if digits() == 0 {
			return nil, c.fail("bad number")
		}
	}
	if c.i < len(c.in) && (c.in[c.i] == 'e' || c.in[c.i] == 'E') {
		c.i++
		integer = false
		if c.i < len(c.in) && (c.in[c.i] == '+' || c.in[c.i] == '-') {
			c.i++
		}
		if digits() == 0 {
			return nil, c.fail("bad number")
		}
	}
	lit := c.in[start:c.i]
	if integer {
		if _, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			return append(out, lit...), nil
		}
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%w: number %s out of range", errJSON, lit)
	}
	return appendFloat(out, f), nil
}

// appendFloat formats like encoding/json: shortest round-trip, exponent form
// outside [1e-6, 1e21), "e-07" written "e-7".
func appendFloat(out []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(out)
	out = strconv.AppendFloat(out, f, format, -1, 64)
	if format == 'e' {
		n := len(out) - start
		if n >= 4 && out[len(out)-4] == 'e' && out[len(out)-3] == '-' && out[len(out)-2] == '0' {
			out[len(out)-2] = out[len(out)-1]
			out = out[:len(out)-1]
		}
	}
	return out
}

// keyInput is everything that names one recorded call.
type keyInput struct {
	Version       int             `json:"v"`
	Kind          string          `json:"kind"`
	Digest        string          `json:"digest"`
	ServerVersion string          `json:"server_version"`
	Epoch         int             `json:"epoch"`
	Lane          string          `json:"lane,omitempty"`
	Call          int             `json:"call"`
	Request       json.RawMessage `json:"request"`
}

// Identity is the model behind a recording: its digest and the server's
// version. Both go into every key, so a new model or server misses instead
// of replaying answers another one gave.
type Identity struct {
	Digest        string `json:"digest"`
	ServerVersion string `json:"server_version"`
}

// Key hashes a canonical request with its kind, the model's identity, the
// epoch, the lane and the call ordinal. Identical requests at different
// ordinals get different keys, so a run that asks the same twice replays
// both answers in order. lane names a conversation that runs beside others
// in one trajectory (a plan step executed in parallel, see Session.Fork); ""
// is the main one.
func Key(kind string, id Identity, epoch int, lane string, call int, canonicalRequest json.RawMessage) string {
	h := sha256.New()
	// The header is canonical by construction: fixed field order, escaped
	// strings. The request is appended already canonical.
	var b []byte
	b = append(b, `{"call":`...)
	b = strconv.AppendInt(b, int64(call), 10)
	b = append(b, `,"digest":`...)
	b = appendString(b, id.Digest)
	b = append(b, `,"epoch":`...)
	b = strconv.AppendInt(b, int64(epoch), 10)
	b = append(b, `,"kind":`...)
	b = appendString(b, kind)
	if lane != "" {
		b = append(b, `,"lane":`...)
		b = appendString(b, lane)
	}
	b = append(b, `,"request":`...)
	h.Write(b)
	h.Write(canonicalRequest)
	b = append(b[:0], `,"server_version":`...)
	b = appendString(b, id.ServerVersion)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, KeyVersion, 10)
	b = append(b, '}')
	h.Write(b)
	return fmt.Sprintf("v%d-%s", KeyVersion, hex.EncodeToString(h.Sum(nil)))
}
