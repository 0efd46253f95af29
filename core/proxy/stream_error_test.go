package proxy

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"
)

// TestStreamErrorMessageChecked: an error a chat stream carries mid-stream
// (after text, status 200), or a Responses stream's error event and
// response.failed, quotes an SSN. Under an output mask rule the
// client gets the message masked, natively and translated to a Messages
// client (whose error event repeats it); under a block rule it gets the
// proxy's own block error instead.
func TestStreamErrorMessageChecked(t *testing.T) {
	t.Parallel()
	const ssn = "123-45-6789"
	const mask = `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`
	const block = `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"block","scope":"output"}]}`
	stream := `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Par"}}]}

data: {"error":{"message":"Invalid value '` + ssn + `' at messages[0]","type":"invalid_request_error","param":null,"code":null}}

`
	respStream := `data: {"type":"response.created","sequence_number":0,"response":{"output":[]}}

data: {"type":"response.output_text.delta","sequence_number":1,"output_index":0,"content_index":0,"delta":"Par"}

data: {"type":"error","sequence_number":2,"code":"invalid_value","message":"Invalid value '` + ssn + `'","param":null}

data: {"type":"response.failed","sequence_number":3,"response":{"status":"failed","error":{"code":"server_error","message":"Failed on '` + ssn + `'"},"output":[]}}

`
	responses := `{"model":"gpt-4o","stream":true,"input":"hi"}`
	cases := []struct {
		name, policy, path, body string
		want                     string
		upstream                 string
	}{
		{"responses masked", mask, "/v1/responses", responses, "Failed on '[REDACTED:ssn]'", respStream},
		{"responses blocked", block, "/v1/responses", responses, "content_policy_violation", respStream},
		{"chat masked", mask, "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "Invalid value '[REDACTED:ssn]'", ""},
		{"messages masked", mask, "/v1/messages", `{"model":"gpt-4o","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "Invalid value '[REDACTED:ssn]'", ""},
		{"chat blocked", block, "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "content_policy_violation", ""},
		{"messages blocked", block, "/v1/messages", `{"model":"gpt-4o","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "Response blocked", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := stream
			if tc.upstream != "" {
				up = tc.upstream
			}
			s, tok := newRulesServer(t, sseUpstream(t, up), tc.policy)
			c := serveInMemory(t, s)
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://proxy" + tc.path)
			req.Header.SetMethod("POST")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.SetBodyString(tc.body)
			// The rule plugin compiles in the background: until it is
			// ready the token is held, then refused (fail closed).
			deadline := time.Now().Add(2 * time.Minute)
			for {
				err := c.DoTimeout(req, resp, 10*time.Second)
				if errors.Is(err, fasthttp.ErrTimeout) && time.Now().Before(deadline) {
					continue
				}
				require.NoError(t, err)
				if (resp.StatusCode() != 500 && resp.StatusCode() != 503) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			require.Equal(t, 200, resp.StatusCode(), "%s", resp.Body())
			out := string(resp.Body())
			assert.NotContains(t, out, ssn)
			assert.Contains(t, out, tc.want)
			if tc.upstream != "" && tc.policy == mask {
				assert.Contains(t, out, "Invalid value '[REDACTED:ssn]'", "the error event, masked")
			}
		})
	}
}
