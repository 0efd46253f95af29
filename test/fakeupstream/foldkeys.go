package fakeupstream

import (
	"encoding/json"
	"strings"
	"sync"
)

// The fake decodes request bodies with encoding/json, which matches member
// names without regard to case (Unicode simple folding: "MODEL", "Model" and
// "model" with a Kelvin sign all fill Model) and keeps the last of repeated
// members, as Go, Ollama- and vLLM-style servers do. A gateway in front of
// such a server must never forward a body in which a field it checked could
// be read differently. With Options.FoldKeys the fake records every member
// name that a lax server would read as another or as a repeat, so a test can
// assert that none ever reached it (VariantKeys).

// laxFields are the names the fake's decoders read: a spelling that folds
// onto one of them without being it is a variant.
var laxFields = []string{
	"arguments", "content", "dimensions", "encoding_format", "function", "include_usage", "input",
	"instructions", "max_completion_tokens", "max_output_tokens", "max_tokens", "messages", "model",
	"n", "name", "output", "prompt", "role", "stream", "stream_options", "system", "text", "tool_calls",
	"tool_choice", "tools", "type", "description", "parameters", "refusal", "suffix", "best_of",
}

// variantLog holds what FoldKeys mode saw.
type variantLog struct {
	mu   sync.Mutex
	seen []string
}

// VariantKeys returns, in arrival order, the member names of received
// bodies that a case-folding server would read as another field or as a
// repeat: escaped names, names that fold onto a field the fake reads
// without being it, and names folding onto another member of the same
// object. Only recorded with Options.FoldKeys.
func (s *Server) VariantKeys() []string {
	s.variants.mu.Lock()
	defer s.variants.mu.Unlock()
	return append([]string(nil), s.variants.seen...)
}

// noteVariantKeys records the variant names of body (FoldKeys mode).
func (s *Server) noteVariantKeys(body []byte) {
	if !s.opts.FoldKeys {
		return
	}
	found := variantKeys(body)
	if len(found) == 0 {
		return
	}
	s.variants.mu.Lock()
	s.variants.seen = append(s.variants.seen, found...)
	s.variants.mu.Unlock()
}

// variantKeys lexes body (any JSON) and returns its variant member names,
// as written (escapes kept).
func variantKeys(body []byte) []string {
	var out []string
	var stack [][]string // member names of each open object, decoded
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, nil)
		case '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case '"':
			end := stringEnd(body, i)
			if end < 0 {
				return out
			}
			raw := body[i:end]
			i = end - 1
			j := end
			for j < len(body) && (body[j] == ' ' || body[j] == '\t' || body[j] == '\n' || body[j] == '\r') {
				j++
			}
			if j >= len(body) || body[j] != ':' || len(stack) == 0 {
				continue // a value, not a member name
			}
			var name string
			if json.Unmarshal(raw, &name) != nil {
				continue
			}
			top := &stack[len(stack)-1]
			if isVariant(name, string(raw), *top) {
				out = append(out, string(raw[1:len(raw)-1]))
			}
			*top = append(*top, name)
		}
	}
	return out
}

// stringEnd returns the offset just past the literal starting at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

func isVariant(name, raw string, siblings []string) bool {
	if strings.ContainsRune(raw, '\\') {
		return true
	}
	for _, f := range laxFields {
		if name != f && strings.EqualFold(name, f) {
			return true
		}
	}
	for _, sib := range siblings {
		if strings.EqualFold(name, sib) {
			return true
		}
	}
	return false
}
