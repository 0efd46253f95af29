package test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noTextAnswers are the upstream's non-streamed chat answers, chosen by a
// case=NAME marker in the request. The fake upstream always generates text,
// so these come from a fixed server.
var noTextAnswers = map[string]string{
	"null":      `"message":{"role":"assistant","content":null},"finish_reason":"stop"`,
	"empty":     `"message":{"role":"assistant","content":""},"finish_reason":"stop"`,
	"tool-bare": `"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"ping","arguments":""}}]},"finish_reason":"tool_calls"`,
	"tool-args": `"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"ping","arguments":"{\"animal\":\"zebra\"}"}}]},"finish_reason":"tool_calls"`,
	"text":      `"message":{"role":"assistant","content":"a zebra crossed"},"finish_reason":"stop"`,
	"text-ok":   `"message":{"role":"assistant","content":"nothing to see"},"finish_reason":"stop"`,
}

var caseMarker = regexp.MustCompile(`case=([a-z-]+)`)

// startFixedAnswers serves noTextAnswers on loopback and returns its URL.
func startFixedAnswers(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := caseMarker.FindSubmatch(body)
		if m == nil || noTextAnswers[string(m[1])] == "" {
			http.Error(w, `{"error":{"message":"no case","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"id":"chatcmpl-fixed","object":"chat.completion","created":1700000000,"model":"gpt-4o",`+
			`"choices":[{"index":0,%s}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`, noTextAnswers[string(m[1])])
	})}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("fixed upstream: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

var outKwCalls = regexp.MustCompile(`(?m)^tokenomics_rule_call_seconds_count\{[^}]*rule="out-kw"[^}]*\} (\d+)$`)

// ruleCalls reads how many times the out-kw rule's plugin ran.
func ruleCalls(t *testing.T, url string) int {
	t.Helper()
	r := pxDo(t, http.MethodGet, url+"/metrics", "")
	require.Equal(t, http.StatusOK, r.status)
	m := outKwCalls.FindSubmatch(r.body)
	if m == nil {
		return 0 // no call yet: the series appears with its first observation
	}
	n, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	return n
}

// TestOutputRulesSkipNoText: a non-streamed answer without generated text
// (null or empty content, a tool call without arguments) does not call the
// output rule's plugin and passes unchanged; an answer with text, tool
// call arguments included, still goes through the rule.
func TestOutputRulesSkipNoText(t *testing.T) {
	t.Parallel()
	upstream := startFixedAnswers(t)
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: upstream, port: port})
	env := proxyEnv()
	p := startServe(t, dir, port, env)
	pxNoRace(t, p)
	tok, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":1000000,"rules":[`+
		`{"name":"out-kw","type":"keyword","keywords":["zebra"],"action":"fail","scope":"output"}]}`)

	tests := []struct {
		name   string
		status int
		called bool
	}{
		{name: "null", status: http.StatusOK},
		{name: "empty", status: http.StatusOK},
		{name: "tool-bare", status: http.StatusOK},
		{name: "text-ok", status: http.StatusOK, called: true},
		{name: "text", status: http.StatusForbidden, called: true},
		{name: "tool-args", status: http.StatusForbidden, called: true},
	}
	// Sequential: each case reads the call counter before and after.
	for _, tc := range tests {
		before := ruleCalls(t, p.URL)
		r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", "case="+tc.name, false, ""))
		assert.Equal(t, tc.status, r.status, "%s: %s", tc.name, r.body)
		after := ruleCalls(t, p.URL)
		if tc.called {
			assert.Equal(t, before+1, after, "%s: the output rule runs once", tc.name)
		} else {
			assert.Equal(t, before, after, "%s: no text, no plugin call", tc.name)
			assert.True(t, strings.Contains(string(r.body), `"finish_reason"`), "%s: the answer passes: %s", tc.name, r.body)
		}
	}
}
