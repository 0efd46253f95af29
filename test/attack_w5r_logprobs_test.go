package test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startLogprobsUpstream answers every chat request with "a zebra crossed"
// and, as OpenAI does when the request asks for logprobs (true), the same text
// again token by token under choices[].logprobs.content.
func startLogprobsUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		lp := `null`
		if strings.Contains(string(body), `"logprobs":true`) {
			lp = `{"content":[` +
				`{"token":"a","logprob":-0.1,"bytes":[97],"top_logprobs":[]},` +
				`{"token":" zebra","logprob":-0.2,"bytes":[32,122,101,98,114,97],"top_logprobs":[{"token":" zebra","logprob":-0.2,"bytes":[32,122,101,98,114,97]}]},` +
				`{"token":" crossed","logprob":-0.3,"bytes":[32,99,114,111,115,115,101,100],"top_logprobs":[]}],"refusal":null}`
		}
		msg := `{"role":"assistant","content":"a zebra crossed"}`
		if strings.Contains(string(body), `"audio":{`) {
			// Speech: no content, the words in audio.transcript.
			msg = `{"role":"assistant","content":null,"audio":{"id":"audio_1","expires_at":1700003600,"data":"UklGRg==","transcript":"a zebra crossed"}}`
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprint(w, `{"id":"chatcmpl-lp","object":"chat.completion","created":1700000000,"model":"gpt-4o",`+
			`"choices":[{"index":0,"message":`+msg+`,"logprobs":`+lp+`,`+
			`"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`)
	})}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("logprobs upstream: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestW5RLogprobsUnderOutputRules: speech (chat audio output: the words
// in audio.transcript and the audio itself) and logprobs repeat the generated text token
// by token (chat logprobs/top_logprobs, completions logprobs, responses
// top_logprobs or include message.output_text.logprobs). Output rules do
// not read them (and a secret split across tokens matches no rule), so a
// token with output rules is refused such a request before anything is
// forwarded; a token without output rules still gets them.
func TestW5RLogprobsUnderOutputRules(t *testing.T) {
	t.Parallel()
	upstream := startLogprobsUpstream(t)
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: upstream, port: port})
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	masked, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":1000000,"rules":[`+
		`{"name":"out-kw","type":"keyword","keywords":["zebra"],"action":"mask","scope":"output"}]}`)
	plain, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":1000000}`)

	// Without logprobs the mask works: the baseline the attack escapes.
	r := pxPost(t, p.URL+"/v1/chat/completions", masked, pxChat("gpt-4o", "hello", false, ""))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)

	tests := []struct {
		name, path, body string
		field            string
	}{
		{"chat audio", "/v1/chat/completions", pxChat("gpt-4o", "hello", false, `"modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"}`), "audio"},
		{"chat audio object only", "/v1/chat/completions", pxChat("gpt-4o", "hello", false, `"audio":{"voice":"alloy","format":"wav"}`), "audio"},
		{"chat logprobs", "/v1/chat/completions", pxChat("gpt-4o", "hello", false, `"logprobs":true`), "logprobs"},
		{"chat top_logprobs", "/v1/chat/completions", pxChat("gpt-4o", "hello", false, `"logprobs":true,"top_logprobs":2`), "logprobs"},
		{"chat stream logprobs", "/v1/chat/completions", pxChat("gpt-4o", "hello", true, `"logprobs":true`), "logprobs"},
		{"completions logprobs 0", "/v1/completions", `{"model":"gpt-4o","prompt":"hello","logprobs":0}`, "logprobs"},
		{"responses include", "/v1/responses", `{"model":"gpt-4o","input":"hello","include":["message.output_text.logprobs"]}`, "logprobs"},
		{"responses top_logprobs", "/v1/responses", `{"model":"gpt-4o","input":"hello","top_logprobs":3}`, "logprobs"},
	}
	for _, tc := range tests {
		r := pxPost(t, p.URL+tc.path, masked, tc.body)
		assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", tc.name, r.body)
		assert.NotContains(t, strings.ToLower(string(r.body)), "zebra", tc.name)
		assert.Contains(t, string(r.body), tc.field, "%s: the error names the field: %s", tc.name, r.body)
	}
	// Asking for none is fine.
	for _, extra := range []string{`"logprobs":false`, `"logprobs":null`, `"top_logprobs":null`, `"modalities":["text"]`, `"audio":null`} {
		r := pxPost(t, p.URL+"/v1/chat/completions", masked, pxChat("gpt-4o", "hello", false, extra))
		assert.Equal(t, http.StatusOK, r.status, "%s: %s", extra, r.body)
		assert.NotContains(t, string(r.body), "zebra", extra)
	}
	// No output rules: logprobs are the client's to have.
	r = pxPost(t, p.URL+"/v1/chat/completions", plain, pxChat("gpt-4o", "hello", false, `"logprobs":true`))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Contains(t, string(r.body), `"token":" zebra"`)
}
