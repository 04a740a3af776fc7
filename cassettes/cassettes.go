// Package cassettes embeds the committed cassette exports, so that the
// binary replays the reference run from anywhere, with no files beside it.
package cassettes

import "embed"

// Reference is the export of the reference run: the oracle policy of the
// Ollama-protocol simulator over the embedded scenarios.
const Reference = "reference.jsonl"

// FS holds the committed exports.
//
//go:embed *.jsonl
var FS embed.FS
