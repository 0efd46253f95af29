package fakeupstream

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const personSchema = `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":3},` +
	`"tags":{"type":"array","items":{"type":"string","enum":["a","b"]},"minItems":2},"pet":{"$ref":"#/$defs/pet"},` +
	`"nick":{"type":["string","null"],"maxLength":4}},"required":["name","age","tags","pet","nick"],"additionalProperties":false,` +
	`"$defs":{"pet":{"type":"object","properties":{"kind":{"const":"cat"}},"required":["kind"]}}}`

func TestStructuredOutput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path, body string
		want             string // JSON the answer must equal
		err              bool
	}{
		{"chat json_schema", "/v1/chat/completions",
			`{"model":"m","messages":[{"role":"user","content":"Bob"}],"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":` + personSchema + `}}}`,
			`{"name":"Echo: Bob","age":3,"tags":["a","a"],"pet":{"kind":"cat"},"nick":"Echo"}`, false},
		{"chat json_object", "/v1/chat/completions",
			`{"model":"m","messages":[{"role":"user","content":"Bob"}],"response_format":{"type":"json_object"}}`,
			`{"echo":"Echo: Bob"}`, false},
		{"chat schema without name", "/v1/chat/completions",
			`{"model":"m","messages":[{"role":"user","content":"Bob"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}}`, "", true},
		{"responses text.format", "/v1/responses",
			`{"model":"m","input":"Bob","text":{"format":{"type":"json_schema","name":"p","schema":` + personSchema + `}}}`,
			`{"name":"Echo: Bob","age":3,"tags":["a","a"],"pet":{"kind":"cat"},"nick":"Echo"}`, false},
		{"anthropic output_config", "/v1/messages",
			`{"model":"c","max_tokens":100,"messages":[{"role":"user","content":"Bob"}],"output_config":{"format":{"type":"json_schema","schema":` + personSchema + `}}}`,
			`{"name":"Echo: Bob","age":3,"tags":["a","a"],"pet":{"kind":"cat"},"nick":"Echo"}`, false},
		{"anthropic json_object refused", "/v1/messages",
			`{"model":"c","max_tokens":100,"messages":[{"role":"user","content":"Bob"}],"output_config":{"format":{"type":"json_object"}}}`, "", true},
		{"text format is plain", "/v1/responses",
			`{"model":"m","input":"Bob","text":{"format":{"type":"text"}}}`, `"Echo: Bob"`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Predict(tc.path, []byte(tc.body))
			if tc.err {
				require.ErrorIs(t, err, ErrInvalidRequest)
				return
			}
			require.NoError(t, err)
			if tc.want[0] == '"' {
				var s string
				require.NoError(t, json.Unmarshal([]byte(tc.want), &s))
				assert.Equal(t, s, p.Text)
				return
			}
			assert.JSONEq(t, tc.want, p.Text)
			assert.Equal(t, CountTokens(p.Text), p.CompletionTokens)
		})
	}
}
