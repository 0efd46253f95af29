package proxy

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type anthropicErrBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

func TestAnthropicShaped(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body     string
		status         int
		same           bool // passed through unchanged
		typ, msg, code string
	}{
		{name: "anthropic body kept", status: 529, same: true,
			body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{name: "openai body rewritten", status: 429,
			body: `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			typ:  "rate_limit_error", msg: "Rate limit reached for gpt-4o", code: "rate_limit_exceeded"},
		{name: "openai null code", status: 400, body: `{"error":{"message":"bad","type":"invalid_request_error","code":null}}`,
			typ: "invalid_request_error", msg: "bad"},
		{name: "openai numeric code", status: 500, body: `{"error":{"message":"boom","code":500}}`, typ: "api_error", msg: "boom"},
		{name: "html", status: 502, body: `<html>bad gateway</html>`, typ: "api_error", msg: "The provider answered with status 502.", code: "upstream_error"},
		{name: "empty", status: 503, body: ``, typ: "overloaded_error", msg: "The provider answered with status 503.", code: "upstream_error"},
		{name: "json without error", status: 404, body: `{"detail":"Not Found"}`, typ: "not_found_error", msg: "The provider answered with status 404.", code: "upstream_error"},
		{name: "error without message", status: 403, body: `{"error":{}}`, typ: "permission_error", msg: "The provider refused the request (status 403)."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := anthropicShaped(tc.status, []byte(tc.body))
			if tc.same {
				assert.Equal(t, tc.body, string(out))
				return
			}
			var got anthropicErrBody
			require.NoError(t, json.Unmarshal(out, &got), string(out))
			assert.Equal(t, "error", got.Type)
			assert.Equal(t, tc.typ, got.Error.Type)
			assert.Equal(t, tc.msg, got.Error.Message)
			assert.Equal(t, tc.code, got.Error.Code)
		})
	}
}

// FuzzAnthropicShaped: whatever a provider sends, the client gets
// Anthropic's error shape with a type its SDKs know.
func FuzzAnthropicShaped(f *testing.F) {
	for _, s := range []string{`{"type":"error","error":{"type":"api_error","message":"x"}}`, `{"error":{"message":"m","code":"c"}}`, `<html>`, ``, `{"error":null}`, `{"type":"error","error":{}}`} {
		f.Add(500, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		out := anthropicShaped(status, []byte(body))
		var got anthropicErrBody
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("not JSON: %q -> %q", body, out)
		}
		if got.Type != "error" || got.Error.Type == "" {
			t.Fatalf("not Anthropic's shape: %q -> %q", body, out)
		}
	})
}
