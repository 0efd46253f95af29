package test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostedToolEvents is a Responses stream whose model output is not in
// output_text: a code interpreter call (code deltas, its .done, the item
// with its logs), an MCP call (argument deltas, .done, output) and an
// audio transcript. The SSN is cut across deltas in each.
var hostedToolEvents = []string{
	`{"type":"response.created","sequence_number":0,"response":{"id":"resp_h","object":"response","status":"in_progress","model":"gpt-4o","output":[]}}`,
	`{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"ci_h","type":"code_interpreter_call","status":"in_progress","code":""}}`,
	`{"type":"response.code_interpreter_call_code.delta","sequence_number":2,"item_id":"ci_h","output_index":0,"delta":"print('123-4"}`,
	`{"type":"response.code_interpreter_call_code.delta","sequence_number":3,"item_id":"ci_h","output_index":0,"delta":"5-6789')"}`,
	`{"type":"response.code_interpreter_call_code.done","sequence_number":4,"item_id":"ci_h","output_index":0,"code":"print('123-45-6789')"}`,
	`{"type":"response.output_item.done","sequence_number":5,"output_index":0,"item":{"id":"ci_h","type":"code_interpreter_call","status":"completed","code":"print('123-45-6789')","outputs":[{"type":"logs","logs":"123-45-6789\n"}]}}`,
	`{"type":"response.mcp_call_arguments.delta","sequence_number":6,"item_id":"mcp_h","output_index":1,"delta":"{\"q\":\"123-45"}`,
	`{"type":"response.mcp_call_arguments.delta","sequence_number":7,"item_id":"mcp_h","output_index":1,"delta":"-6789\"}"}`,
	`{"type":"response.mcp_call_arguments.done","sequence_number":8,"item_id":"mcp_h","output_index":1,"arguments":"{\"q\":\"123-45-6789\"}"}`,
	`{"type":"response.output_item.done","sequence_number":9,"output_index":1,"item":{"id":"mcp_h","type":"mcp_call","name":"lookup","server_label":"crm","arguments":"{\"q\":\"123-45-6789\"}","output":"owner of 123-45-6789"}}`,
	`{"type":"response.output_audio_transcript.delta","sequence_number":10,"output_index":2,"content_index":0,"delta":"your number is 123-"}`,
	`{"type":"response.output_audio_transcript.delta","sequence_number":11,"output_index":2,"content_index":0,"delta":"45-6789"}`,
	`{"type":"response.output_audio_transcript.done","sequence_number":12,"output_index":2,"content_index":0,"transcript":"your number is 123-45-6789"}`,
	`{"type":"response.completed","sequence_number":13,"response":{"id":"resp_h","object":"response","status":"completed","model":"gpt-4o","output":[{"id":"ci_h","type":"code_interpreter_call","status":"completed","code":"print('123-45-6789')","outputs":[{"type":"logs","logs":"123-45-6789\n"}]},{"id":"mcp_h","type":"mcp_call","name":"lookup","server_label":"crm","arguments":"{\"q\":\"123-45-6789\"}","output":"owner of 123-45-6789"}],"usage":{"input_tokens":5,"output_tokens":9,"total_tokens":14}}}`,
}

// TestHostedToolStreamMasked: with an output mask rule, no hosted-tool
// text of a Responses stream reaches the client unmasked (code interpreter
// code and logs, MCP arguments and output, audio transcripts), in the
// deltas, in the .done events that repeat them, or in response.completed;
// the same body answered whole is masked too.
func TestHostedToolStreamMasked(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(req), `"stream":true`) {
			w.Header().Set("Content-Type", "application/json")
			last := hostedToolEvents[len(hostedToolEvents)-1]
			i := strings.Index(last, `"response":`) + len(`"response":`)
			_, _ = w.Write([]byte(last[i : len(last)-1]))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range hostedToolEvents {
			typ := e[strings.Index(e, `"type":"`)+8:]
			typ = typ[:strings.Index(typ, `"`)]
			_, _ = w.Write([]byte("event: " + typ + "\ndata: " + e + "\n\n"))
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(up.Close)
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: up.URL, port: port})
	p := startServe(t, dir, port, proxyEnv())
	pxNoRace(t, p)
	px := &pxEnv{p: p, dir: dir, env: proxyEnv(), url: p.URL}
	tok, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`)

	for _, stream := range []bool{true, false} {
		body := `{"model":"gpt-4o","input":"run it","stream":` + map[bool]string{true: "true", false: "false"}[stream] + `}`
		r := pxPost(t, px.url+"/v1/responses", tok, body)
		require.Equal(t, 200, r.status, "%s", r.body)
		assert.NotContains(t, string(r.body), "123-45-6789", "stream=%t", stream)
		assert.NotContains(t, string(r.body), "6789", "stream=%t: a tail of the number", stream)
		if stream {
			assert.Contains(t, string(r.body), "response.completed")
		}
	}
}
