package cassette

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// KeyVersion changes whenever what goes into a key changes, so that old
// cassettes miss loudly instead of matching by accident.
const KeyVersion = 1

// Canonical re-encodes JSON with sorted object keys, no insignificant space,
// numbers in their shortest form (1.0 and 1e0 are both 1) and no HTML
// escaping. Two requests that mean the same get the same bytes.
func Canonical(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	normalised, err := normaliseNumbers(generic)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normalised); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func normaliseNumbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return x, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", x, err)
		}
		return f, nil // encoding/json writes the shortest form that round-trips
	case map[string]any:
		for k, e := range x {
			n, err := normaliseNumbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	case []any:
		for i, e := range x {
			n, err := normaliseNumbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	}
	return v, nil
}

// keyInput is everything that names one recorded call.
type keyInput struct {
	Version int             `json:"v"`
	Kind    string          `json:"kind"`
	Epoch   int             `json:"epoch"`
	Lane    string          `json:"lane,omitempty"`
	Call    int             `json:"call"`
	Request json.RawMessage `json:"request"`
}

// Key hashes a canonical request with its kind, epoch and call ordinal.
// Identical requests at different ordinals get different keys, so a run that
// asks the same twice replays both answers in order.
//
// lane names a conversation that runs beside others in one trajectory (a
// plan step executed in parallel, see Session.Fork); "" is the main one.
func Key(kind string, epoch int, lane string, call int, canonicalRequest json.RawMessage) string {
	b, err := Canonical(keyInput{KeyVersion, kind, epoch, lane, call, canonicalRequest})
	if err != nil {
		// The input was produced by Canonical; it always re-encodes.
		panic(fmt.Sprintf("cassette: key: %v", err))
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("v%d-%s", KeyVersion, hex.EncodeToString(sum[:]))
}
