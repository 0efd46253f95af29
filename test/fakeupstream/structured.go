package fakeupstream

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// outputFormat is the structured output a request asks for: a JSON schema
// (response_format json_schema in chat, text.format in Responses,
// output_config.format in Anthropic Messages) or OpenAI's plain JSON mode.
type outputFormat struct {
	schema     map[string]any // nil in JSON mode
	jsonObject bool
}

// parseFormat reads the structured output fields of a request, refusing
// them as the real API does when a required member is missing. A request
// without one returns nil.
func parseFormat(a api, body []byte) (*outputFormat, error) {
	var req struct {
		ResponseFormat *struct {
			Type       string `json:"type"`
			JSONSchema *struct {
				Name   string          `json:"name"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
		Text *struct {
			Format *struct {
				Type   string          `json:"type"`
				Name   string          `json:"name"`
				Schema json.RawMessage `json:"schema"`
			} `json:"format"`
		} `json:"text"`
		OutputConfig *struct {
			Format *struct {
				Type   string          `json:"type"`
				Schema json.RawMessage `json:"schema"`
			} `json:"format"`
		} `json:"output_config"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil // the API's own parser reports it
	}
	var typ, name string
	var schema json.RawMessage
	var field string
	switch {
	case a == apiChat && req.ResponseFormat != nil:
		field = "response_format"
		typ = req.ResponseFormat.Type
		if js := req.ResponseFormat.JSONSchema; js != nil {
			name, schema = js.Name, js.Schema
		} else if typ == "json_schema" {
			return nil, invalid("Missing required parameter: 'response_format.json_schema'.")
		}
	case a == apiResponses && req.Text != nil && req.Text.Format != nil:
		field = "text.format"
		typ, name, schema = req.Text.Format.Type, req.Text.Format.Name, req.Text.Format.Schema
	case a == apiMessages && req.OutputConfig != nil && req.OutputConfig.Format != nil:
		field = "output_config.format"
		typ, schema = req.OutputConfig.Format.Type, req.OutputConfig.Format.Schema
		name = "anthropic" // Anthropic names no schema
	default:
		return nil, nil
	}
	switch typ {
	case "text":
		return nil, nil
	case "json_object":
		if a == apiMessages {
			return nil, invalid("%s.type: Input should be 'json_schema'", field)
		}
		return &outputFormat{jsonObject: true}, nil
	case "json_schema":
	default:
		return nil, invalid("Invalid value: '%s'. Supported values are: 'text', 'json_object' and 'json_schema'.", typ)
	}
	if name == "" {
		return nil, invalid("Missing required parameter: '%s.name'.", field)
	}
	var m map[string]any
	if err := json.Unmarshal(schema, &m); err != nil || m == nil {
		return nil, invalid("%s.schema: must be a JSON object", field)
	}
	return &outputFormat{schema: m}, nil
}

// answer returns JSON text that matches the schema, built from the echo
// text (every string takes it, within minLength/maxLength), or in JSON
// mode {"echo": text}.
func (f *outputFormat) answer(text string) string {
	var v any
	if f.jsonObject {
		v = map[string]any{"echo": text}
	} else {
		v = instance(f.schema, f.schema, text, 0)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(buf.String(), "\n")
}

// instance builds a value valid against schema s (root resolves $ref).
func instance(root, s map[string]any, text string, depth int) any {
	if depth > 16 || s == nil {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		return instance(root, resolveRef(root, ref), text, depth+1)
	}
	if c, ok := s["const"]; ok {
		return c
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if alts, ok := s[k].([]any); ok && len(alts) > 0 {
			if first, ok := alts[0].(map[string]any); ok {
				return instance(root, first, text, depth+1)
			}
		}
	}
	typ := s["type"]
	if list, ok := typ.([]any); ok { // ["string","null"]: the first non-null
		typ = nil
		for _, t := range list {
			if t != "null" {
				typ = t
				break
			}
		}
	}
	switch typ {
	case "object":
		props, _ := s["properties"].(map[string]any)
		out := make(map[string]any, len(props))
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			ps, _ := props[k].(map[string]any)
			out[k] = instance(root, ps, text, depth+1)
		}
		return out
	case "array":
		items, _ := s["items"].(map[string]any)
		n := 1
		if m, ok := s["minItems"].(float64); ok && int(m) > n {
			n = int(m)
		}
		if m, ok := s["maxItems"].(float64); ok && int(m) < n {
			n = int(m)
		}
		out := make([]any, n)
		for i := range out {
			out[i] = instance(root, items, text, depth+1)
		}
		return out
	case "integer", "number":
		n := 1.0
		if m, ok := s["minimum"].(float64); ok && m > n {
			n = m
		}
		if m, ok := s["maximum"].(float64); ok && m < n {
			n = m
		}
		if typ == "integer" {
			return int64(n)
		}
		return n
	case "boolean":
		return true
	case "null":
		return nil
	case "string":
		return fitString(s, text)
	}
	return text
}

func fitString(s map[string]any, text string) string {
	switch s["format"] {
	case "date-time":
		return "2026-01-01T00:00:00Z"
	case "date":
		return "2026-01-01"
	case "email":
		return "echo@example.com"
	case "uuid":
		return "00000000-0000-4000-8000-000000000000"
	}
	if m, ok := s["maxLength"].(float64); ok && len([]rune(text)) > int(m) {
		text = string([]rune(text)[:int(m)])
	}
	if m, ok := s["minLength"].(float64); ok {
		for len([]rune(text)) < int(m) {
			text += "x"
		}
	}
	return text
}

func resolveRef(root map[string]any, ref string) map[string]any {
	for _, prefix := range []string{"#/$defs/", "#/definitions/"} {
		if name, ok := strings.CutPrefix(ref, prefix); ok {
			for _, k := range []string{"$defs", "definitions"} {
				if defs, ok := root[k].(map[string]any); ok {
					if d, ok := defs[name].(map[string]any); ok {
						return d
					}
				}
			}
		}
	}
	if ref == "#" {
		return root
	}
	return nil
}
