package test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// W4 review attacks on the stream relay that checks output once per
// upstream read (engineer B): secrets split over several SSE events that
// arrive in one TCP write, in separate writes, or torn mid-event; pooled
// relays and rule streams reused by the next request (a block or a mask
// must not follow a stream into another token's answer, no token's text
// may appear in another's answer); concurrent streams.

// w4rScript is what the scripted upstream streams: the user message holds
// "W4R|mode|piece|piece|...|" and each piece becomes one text event. mode
// "one" writes every event in one write, "sep" flushes each event on its
// own after a pause, "torn" also splits each event in the middle.
var w4rScript = regexp.MustCompile(`W4R\|([a-z]+)\|((?:[^|"\\]*\|)+)`)

// w4rUpstream is a loopback provider that streams scripted deltas in the
// OpenAI chat, Anthropic messages or OpenAI Responses format, by path.
func w4rUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		m := w4rScript.FindSubmatch(body)
		if m == nil {
			http.Error(w, `{"error":{"message":"no script","type":"invalid_request_error"}}`, 400)
			return
		}
		mode := string(m[1])
		pieces := strings.Split(strings.TrimSuffix(string(m[2]), "|"), "|")
		events := w4rEvents(req.URL.Path, pieces)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fl := w.(http.Flusher)
		switch mode {
		case "one":
			_, _ = io.WriteString(w, strings.Join(events, ""))
			fl.Flush()
		default:
			for _, e := range events {
				parts := []string{e}
				if mode == "torn" {
					parts = []string{e[:len(e)/2], e[len(e)/2:]}
				}
				for _, p := range parts {
					_, _ = io.WriteString(w, p)
					fl.Flush()
					time.Sleep(15 * time.Millisecond)
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func w4rEvents(path string, pieces []string) []string {
	// BADESC becomes an escape JSON does not have (\q), BADSUR a lone
	// surrogate: texts a strict decoder refuses.
	bad := strings.NewReplacer("BADESC", `\q`, "BADSUR", `\ud800`)
	q := func(s string) string { b, _ := json.Marshal(s); return bad.Replace(string(b)) }
	full := strings.Join(pieces, "")
	var ev []string
	switch {
	case strings.HasSuffix(path, "/messages"):
		ev = append(ev, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_w4r\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
		for _, p := range pieces {
			ev = append(ev, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"+q(p)+"}}\n\n")
		}
		ev = append(ev, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":7}}\n\n",
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	case strings.HasSuffix(path, "/responses"):
		ev = append(ev, "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_w4r\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"gpt-4o\",\"output\":[]}}\n\n",
			"event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":1,\"output_index\":0,\"item\":{\"id\":\"msg_w4r\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}\n\n",
			"event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\",\"sequence_number\":2,\"item_id\":\"msg_w4r\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}}\n\n")
		for i, p := range pieces {
			ev = append(ev, fmt.Sprintf("event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":%d,\"item_id\":\"msg_w4r\",\"output_index\":0,\"content_index\":0,\"delta\":%s}\n\n", 3+i, q(p)))
		}
		n := 3 + len(pieces)
		ev = append(ev, fmt.Sprintf("event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"sequence_number\":%d,\"item_id\":\"msg_w4r\",\"output_index\":0,\"content_index\":0,\"text\":%s}\n\n", n, q(full)),
			fmt.Sprintf("event: response.content_part.done\ndata: {\"type\":\"response.content_part.done\",\"sequence_number\":%d,\"item_id\":\"msg_w4r\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":%s,\"annotations\":[]}}\n\n", n+1, q(full)),
			fmt.Sprintf("event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":%d,\"output_index\":0,\"item\":{\"id\":\"msg_w4r\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":%s,\"annotations\":[]}]}}\n\n", n+2, q(full)),
			fmt.Sprintf("event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":%d,\"response\":{\"id\":\"resp_w4r\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-4o\",\"output\":[{\"id\":\"msg_w4r\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":%s,\"annotations\":[]}]}],\"usage\":{\"input_tokens\":5,\"output_tokens\":7,\"total_tokens\":12}}}\n\n", n+3, q(full)))
	default:
		chunk := func(delta, finish string) string {
			return "data: {\"id\":\"chatcmpl-w4r\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finish + "}]}\n\n"
		}
		ev = append(ev, chunk(`{"role":"assistant","content":""}`, "null"))
		finish := `"stop"`
		if len(pieces) > 0 && pieces[0] == "TOOL" { // the pieces are a tool call's arguments
			pieces, finish = pieces[1:], `"tool_calls"`
			ev = append(ev, chunk(`{"tool_calls":[{"index":0,"id":"call_w4r","type":"function","function":{"name":"lookup","arguments":""}}]}`, "null"))
			for _, p := range pieces {
				p = strings.ReplaceAll(p, "QT", `"`) // QT: a quote inside the arguments
				ev = append(ev, chunk(`{"tool_calls":[{"index":0,"function":{"arguments":`+q(p)+`}}]}`, "null"))
			}
		} else {
			for _, p := range pieces {
				ev = append(ev, chunk(`{"content":`+q(p)+`}`, "null"))
			}
		}
		ev = append(ev, chunk(`{}`, finish),
			"data: {\"id\":\"chatcmpl-w4r\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\n",
			"data: [DONE]\n\n")
	}
	return ev
}

// w4rText joins the text a client read from a stream in any of the three
// formats.
func w4rText(body []byte) string {
	var b strings.Builder
	data, _ := pxSSE(body)
	for _, d := range data {
		var v map[string]any
		if json.Unmarshal([]byte(d), &v) != nil {
			continue
		}
		switch {
		case v["type"] == "response.output_text.delta":
			b.WriteString(pxStr(v, "delta"))
		case v["type"] == "content_block_delta":
			b.WriteString(pxStr(v, "delta", "text"))
		default:
			b.WriteString(pxStr(v, "choices", 0, "delta", "content"))
		}
	}
	return b.String()
}

// w4rRequest is a streamed request of the path's format carrying script.
func w4rRequest(path, script string) string {
	switch path {
	case "/v1/messages":
		return `{"model":"claude-sonnet-4-6","max_tokens":200,"stream":true,"messages":[{"role":"user","content":"` + script + `"}]}`
	case "/v1/responses":
		return `{"model":"gpt-4o","stream":true,"input":"` + script + `"}`
	}
	return pxChat("gpt-4o", script, true, "")
}

// w4rProxy starts a proxy in front of the scripted upstream.
func w4rProxy(t *testing.T) *pxEnv {
	t.Helper()
	up := w4rUpstream(t)
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: up.URL, port: port})
	e := proxyEnv()
	p := startServe(t, dir, port, e)
	pxNoRace(t, p)
	return &pxEnv{p: p, dir: dir, env: e, url: p.URL}
}

// w4rEnd is the event that tells a client the stream is complete.
var w4rEnd = map[string]string{"/v1/chat/completions": "[DONE]", "/v1/messages": "message_stop", "/v1/responses": "response.completed"}

// TestW4RStreamSplitSecrets: an e-mail address and an SSN cut into two or
// three deltas, the deltas in one upstream read, in separate reads, or
// with every event torn across reads: the client's joined text, every
// event the client reads (Responses' .done events repeat the text) and
// the memory file are masked, and the stream still ends cleanly.
func TestW4RStreamSplitSecrets(t *testing.T) {
	t.Parallel()
	px := w4rProxy(t)
	tok, _ := px.token(t, `{"max_tokens":1000000,
		"rules":[{"name":"pii-out","type":"pii","detect":["ssn","email"],"action":"mask","scope":"output"}],
		"memory":{"enabled":true,"file_path":"./memory","file_name":"{token_hash}.md"}}`)
	secrets := []struct {
		name, whole, local string
		pieces             []string
	}{
		{"email in 3", "alice.wfour@example.com", "alice.wfour", []string{"W4Rstart mail alice.wf", "our@exam", "ple.com W4Rend"}},
		{"email in 2", "alice.wfour@example.com", "alice.wfour", []string{"W4Rstart mail alice.wfour@", "example.com W4Rend"}},
		{"ssn in 3", "123-45-6789", "123-45-6789", []string{"W4Rstart ssn 123-4", "5-67", "89 W4Rend"}},
		{"ssn by character", "123-45-6789", "123-45-6789", strings.Split("W4Rstart 123-45-6789 W4Rend", "")},
	}
	for _, path := range []string{"/v1/chat/completions", "/v1/messages", "/v1/responses"} {
		for _, mode := range []string{"one", "sep", "torn"} {
			for _, s := range secrets {
				t.Run(path+"/"+mode+"/"+s.name, func(t *testing.T) {
					script := "W4R|" + mode + "|" + strings.Join(s.pieces, "|") + "|"
					r := pxPost(t, px.url+path, tok, w4rRequest(path, script), "anthropic-version", "2023-06-01")
					require.Equal(t, 200, r.status, "%s", r.body)
					text := w4rText(r.body)
					assert.NotContains(t, text, s.whole, "the joined deltas carry the secret")
					assert.NotContains(t, text, s.local)
					assert.NotContains(t, string(r.body), s.whole)
					assert.Contains(t, text, "W4Rstart")
					assert.Contains(t, text, "W4Rend", "the text after the secret is sent: %s", lastBytes(string(r.body)))
					assert.Contains(t, string(r.body), w4rEnd[path], "the stream ends cleanly: %s", lastBytes(string(r.body)))
				})
			}
		}
	}
	text := w4rMemory(t, px.dir, 9*len(secrets))
	// The requests carry the pieces unmasked (the rule is output only):
	// only the recorded answers are checked.
	text = regexp.MustCompile(`(?m)^> W4R\|.*$`).ReplaceAllString(text, "")
	assert.Equal(t, 9*len(secrets), strings.Count(text, "W4Rend"), "every answer is recorded")
	assert.NotContains(t, text, "alice.wfour")
	assert.NotContains(t, text, "123-45-6789")
}

// w4rMemory waits (up to 10s) until the token's memory file records want
// answers (W4Rend) and returns it.
func w4rMemory(t *testing.T, dir string, want int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var text string
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "memory", "*.md"))
		text = ""
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			text += string(b)
		}
		// Each exchange's request holds the script (W4Rend once) and its
		// answer the joined text (once more).
		if strings.Count(text, "W4Rend") >= 2*want || time.Now().After(deadline) {
			return text
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestW4RStreamPoolNoCarryOver: a stream blocked by an output rule, then a
// masked one, then streams of other tokens (no rules, other rules) reuse
// the pooled relays and rule streams: no block, mask or held-back text
// follows a stream into the next, and concurrent streams each read only
// their own text.
func TestW4RStreamPoolNoCarryOver(t *testing.T) {
	t.Parallel()
	px := w4rProxy(t)
	blocker, _ := px.token(t, `{"max_tokens":1000000,"rules":[
		{"name":"kw-block","type":"keyword","keywords":["forbiddenword"],"action":"fail","scope":"output"},
		{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`)
	plain, _ := px.token(t, `{"max_tokens":1000000}`)
	other, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"kw-other","type":"keyword","keywords":["zebra"],"action":"mask","scope":"output"}]}`)
	for i := 0; i < 6; i++ {
		for _, path := range []string{"/v1/chat/completions", "/v1/messages", "/v1/responses"} {
			mode := []string{"one", "sep", "torn"}[i%3]
			// Blocked mid-stream, with held-back text in the tail.
			r := pxPost(t, px.url+path, blocker, w4rRequest(path, "W4R|"+mode+"|secretprefix-"+fmt.Sprint(i)+" forbid|denword tail 123-45-|"), "anthropic-version", "2023-06-01")
			if r.status == 200 {
				assert.NotContains(t, w4rText(r.body), "forbiddenword")
				assert.NotContains(t, w4rText(r.body), "tail 123-45-")
				assert.NotContains(t, string(r.body), w4rEnd[path], "a blocked stream must not end as complete")
			} else {
				assert.Equal(t, 403, r.status, "%s", r.body)
			}
			// The same token, a clean answer: not blocked by the last stream.
			r = pxPost(t, px.url+path, blocker, w4rRequest(path, "W4R|"+mode+"|clean-"+fmt.Sprint(i)+" |answer W4Rend|"), "anthropic-version", "2023-06-01")
			require.Equal(t, 200, r.status, "%s", r.body)
			assert.Equal(t, "clean-"+fmt.Sprint(i)+" answer W4Rend", w4rText(r.body), "%s %s", path, mode)
			assert.Contains(t, string(r.body), w4rEnd[path])
			// A token without rules after a masked stream: its SSN is its own.
			_ = pxPost(t, px.url+path, blocker, w4rRequest(path, "W4R|"+mode+"|mask 123-45-|6789 me|"), "anthropic-version", "2023-06-01")
			r = pxPost(t, px.url+path, plain, w4rRequest(path, "W4R|"+mode+"|plain 987-65-|4321 zebra forbiddenword W4Rend|"), "anthropic-version", "2023-06-01")
			require.Equal(t, 200, r.status, "%s", r.body)
			assert.Equal(t, "plain 987-65-4321 zebra forbiddenword W4Rend", w4rText(r.body), "%s %s: no rule of another token applies", path, mode)
			r = pxPost(t, px.url+path, other, w4rRequest(path, "W4R|"+mode+"|other 987-65-4321 forbiddenword |zeb|ra W4Rend|"), "anthropic-version", "2023-06-01")
			require.Equal(t, 200, r.status, "%s", r.body)
			txt := w4rText(r.body)
			assert.Contains(t, txt, "other 987-65-4321 forbiddenword", "%s %s: only this token's rules apply", path, mode)
			assert.NotContains(t, txt, "zebra")
			assert.Contains(t, txt, "W4Rend")
		}
	}

	// Concurrent streams of three tokens: each client reads exactly its own text.
	var wg sync.WaitGroup
	toks := []string{blocker, plain, other}
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			path := []string{"/v1/chat/completions", "/v1/messages", "/v1/responses"}[g%3]
			mode := []string{"one", "sep", "torn"}[(g/3)%3]
			for i := 0; i < 4; i++ {
				id := fmt.Sprintf("g%02di%d", g, i)
				want := "own-" + id + " text-" + id + " W4Rend"
				r := pxPost(t, px.url+path, toks[g%3], w4rRequest(path, "W4R|"+mode+"|own-"+id+" |text-|"+id+" W4Rend|"), "anthropic-version", "2023-06-01")
				if !assert.Equal(t, 200, r.status, "%s", r.body) {
					return
				}
				assert.Equal(t, want, w4rText(r.body), "%s %s", path, mode)
			}
		}(g)
	}
	wg.Wait()
}

// TestW4RRouteVariantKeepsDollarBudget: a provider entry with prompts (or
// rules) of its own gives the token a route variant. The variant must keep
// the token's dollar budget: with max_cost_usd spent, the next request
// routed through that entry is refused like any other.
func TestW4RRouteVariantKeepsDollarBudget(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: 16})
	for _, pol := range []string{
		`{"max_cost_usd":0.001,"providers":{"openai":[{"model":"gpt-4o-mini","prompts":[{"role":"system","content":"Be brief."}]}]}}`,
		`{"max_cost_usd":0.001,"providers":{"openai":[{"model":"gpt-4o-mini","rules":[{"name":"kw","type":"keyword","keywords":["zebra"],"action":"mask","scope":"input"}]}]}}`,
	} {
		p := startLimProxy(t, fake.URL(), "", pol, appendPricing(costClampPricing))
		c := limClient(2)
		r := limChat(c, p.p.URL, p.tok, "gpt-4o-mini", "tell a story [[fake:long=500]]", 0)
		require.NoError(t, r.Err)
		require.Equal(t, 200, r.Status, "body: %s", r.Body)
		u, finish := costUsageOf(t, r.Body)
		assert.Equal(t, "length", finish, "%s: the answer is clamped to what $0.001 pays for", pol)
		assert.Less(t, u.CompletionTokens, int64(100), pol)
		r = limChat(c, p.p.URL, p.tok, "gpt-4o-mini", "tell a story [[fake:long=500]]", 0)
		require.NoError(t, r.Err)
		assert.Equal(t, 429, r.Status, "%s: the spent dollar budget refuses: %s", pol, r.Body)
		p.p.Stop(t)
	}
}

// TestW4RFieldBypassVariants: spellings of the fields engineer D made
// readable that a client could use to slip a secret past the content rules:
// JSON escapes in member names, duplicate members, schemas nested under
// $defs, items and anyOf, schema values the model reads (enum, const,
// default, description), data URLs in odd casing or with parameters, and
// percent-encoded secrets in URLs. Each is either refused (400) or
// forwarded with no secret the upstream can read, decoded or not.
func TestW4RFieldBypassVariants(t *testing.T) {
	t.Parallel()
	e := startBypass(t)
	const chat, resp, msgs = "/v1/chat/completions", "/v1/responses", "/v1/messages"
	doc := base64.StdEncoding.EncodeToString([]byte("ssn " + ssn + "\n"))
	esc := func(s string) string { // every character as a \u escape
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		return b.String()
	}
	chatTool := func(params string) string {
		return `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER"}],"tools":[{"type":"function","function":{"name":"f","parameters":` + params + `}}]}`
	}
	msgsTool := func(schema string) string {
		return `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"MARKER"}],"tools":[{"name":"f","input_schema":` + schema + `}]}`
	}
	pct := strings.NewReplacer("@", "%40", "-", "%2D")
	cases := []struct{ name, path, body string }{
		{"escaped property name", chat, chatTool(`{"type":"object","properties":{"` + esc(ssn) + `":{"type":"string"}}}`)},
		{"escaped property name to claude", chat, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"MARKER"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"` + esc(email) + `":{"type":"string"}}}}}]}`},
		{"escaped tool name", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER"}],"tools":[{"type":"function","function":{"name":"` + esc(ssn) + `","parameters":{"type":"object"}}}]}`},
		{"escaped member name content", chat, `{"model":"gpt-4o","messages":[{"role":"user","c\u006fntent":"MARKER ssn ` + ssn + `"}]}`},
		{"duplicate content member", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER","content":"ssn ` + ssn + `"}]}`},
		{"duplicate input member", resp, `{"model":"gpt-4o","input":"MARKER","input":"ssn ` + ssn + `"}`},
		{"duplicate messages member", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"MARKER"}],"messages":[{"role":"user","content":"ssn ` + ssn + `"}]}`},
		{"duplicate tools member", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER"}],"tools":[],"tools":[{"type":"function","function":{"name":"f","description":"ssn ` + ssn + `","parameters":{"type":"object"}}}]}`},
		{"$defs property name", chat, chatTool(`{"type":"object","$defs":{"p":{"type":"object","properties":{"` + ssn + `":{"type":"string"}}}},"properties":{"a":{"$ref":"#/$defs/p"}}}`)},
		{"definitions property name", msgs, msgsTool(`{"type":"object","definitions":{"p":{"type":"object","properties":{"` + email + `":{"type":"string"}}}},"properties":{"a":{"$ref":"#/definitions/p"}}}`)},
		{"items property name", chat, chatTool(`{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"` + ssn + `":{"type":"string"}}}}}}`)},
		{"anyOf property name", msgs, msgsTool(`{"type":"object","properties":{"a":{"anyOf":[{"type":"string"},{"type":"object","properties":{"` + email + `":{"type":"string"}}}]}}}`)},
		{"enum value", chat, chatTool(`{"type":"object","properties":{"a":{"type":"string","enum":["` + ssn + `"]}}}`)},
		{"const value", msgs, msgsTool(`{"type":"object","properties":{"a":{"type":"string","const":"` + email + `"}}}`)},
		{"default value", chat, chatTool(`{"type":"object","properties":{"a":{"type":"string","default":"` + ssn + `"}}}`)},
		{"nested description", chat, chatTool(`{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string","description":"mail ` + email + `"}}}}}`)},
		{"examples value", msgs, msgsTool(`{"type":"object","properties":{"a":{"type":"string","examples":["` + ssn + `"]}}}`)},
		{"response_format schema enum", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER"}],"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"a":{"type":"string","enum":["` + ssn + `"]}}}}}}`},
		{"upper-case data URL", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},{"type":"file","file":{"filename":"a.txt","file_data":"DATA:TEXT/PLAIN;BASE64,` + doc + `"}}]}]}`},
		{"data URL with charset", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},{"type":"file","file":{"filename":"a.txt","file_data":"data:text/plain;charset=utf-8;base64,` + doc + `"}}]}]}`},
		{"data URL with name and spaces", resp, `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"MARKER"},{"type":"input_file","filename":"n.txt","file_data":"data: text/plain ; name=n.txt ; base64 ,` + doc + `"}]}]}`},
		{"markdown data URL", resp, `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"MARKER"},{"type":"input_file","filename":"n.md","file_data":"data:text/markdown;base64,` + doc + `"}]}]}`},
		{"json data URL", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},{"type":"file","file":{"filename":"a.json","file_data":"data:application/json;base64,` + base64.StdEncoding.EncodeToString([]byte(`{"ssn":"`+ssn+`"}`)) + `"}}]}]}`},
		{"image data URL declared text", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},{"type":"image_url","image_url":{"url":"data:text/plain;base64,` + doc + `"}}]}]}`},
		{"percent-encoded e-mail in image URL", resp, `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"MARKER"},{"type":"input_image","image_url":"https://img.example.net/a.png?owner=` + pct.Replace(email) + `"}]}]}`},
		{"percent-encoded SSN in image URL", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},{"type":"image_url","image_url":{"url":"https://img.example.net/` + pct.Replace(ssn) + `.png"}}]}]}`},
		{"percent-encoded e-mail in Anthropic URL source", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},{"type":"image","source":{"type":"url","url":"https://img.example.net/` + pct.Replace(email) + `.png"}}]}]}`},
		{"plus and percent in URL query", resp, `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"MARKER"},{"type":"input_image","image_url":"https://img.example.net/a.png?q=ssn+` + strings.ReplaceAll(ssn, "-", "%2d") + `"}]}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			marker := fmt.Sprintf("case-%x", fnv32("w4r "+tc.name))
			body := strings.ReplaceAll(tc.body, "MARKER", marker)
			hdr := []string{}
			if tc.path == msgs {
				hdr = append(hdr, "anthropic-version", "2023-06-01")
			}
			r := pxPost(t, e.px.url+tc.path, e.tok, body, hdr...)
			var sent []fakeupstream.Request
			for _, req := range e.px.fake.Requests() {
				if strings.Contains(string(req.Body), marker) {
					sent = append(sent, req)
				}
			}
			if r.status == 400 {
				assert.Empty(t, sent, "a refused request reached the upstream")
				return
			}
			require.Equal(t, 200, r.status, "%s", r.body)
			require.Len(t, sent, 1)
			texts := upstreamTexts(t, sent[0].Body)
			if un, err := url.QueryUnescape(texts); err == nil {
				texts += "\n" + un
			}
			if un, err := url.PathUnescape(string(sent[0].Body)); err == nil {
				texts += "\n" + un
			}
			for _, m := range regexp.MustCompile(`base64,([A-Za-z0-9+/=]+)`).FindAllStringSubmatch(texts, -1) {
				if b, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
					texts += "\n" + string(b)
				}
			}
			for _, leak := range []string{ssn, email, "bob%40example", "123%2D45", "123%2d45"} {
				assert.NotContains(t, texts, leak, "the upstream can read a secret: %s", sent[0].Body)
			}
		})
	}
}

// TestW4RRulesLoadingEveryPath: while the rule plugins compile cold (an
// empty plugins.cache_dir, plugins.load_wait 1ms), no request of a token
// with rules reaches the upstream unchecked on any path: chat, messages
// (native and translated), Responses, completions, count_tokens, and a
// token whose only rules are on a provider entry (its route variant).
// Each request is refused with 503 rules_loading or forwarded masked.
func TestW4RRulesLoadingEveryPath(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{RecordLimit: 4096})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	text := strings.Replace(string(cfg), "cache_dir: "+wasmCacheDir(t), "cache_dir: ./cold-cache", 1)
	text = strings.Replace(text, "load_wait: "+harnessLoadWait, "load_wait: 1ms", 1)
	require.NoError(t, os.WriteFile(cfgPath, []byte(text), 0o600))
	env := proxyEnv()
	const rule = `{"name":"pii","type":"pii","detect":["email"],"action":"mask","scope":"both"}`
	ruled, _ := createToken(t, dir, env, `{"max_tokens":10000000,"rules":[`+rule+`]}`)
	routed, _ := createToken(t, dir, env, `{"max_tokens":10000000,"providers":{"openai":[{"model_regex":"^(gpt|o)"}],"anthropic":[{"model_regex":"^claude","rules":[`+rule+`]}]}}`)

	p := startProc(t, dir, env, fmt.Sprintf("http://127.0.0.1:%d", port), "/health", "serve")
	pxNoRace(t, p)
	const email = "lena.w4r@example.com"
	type req struct{ tok, path, body string }
	reqs := []req{
		{ruled, "/v1/chat/completions", pxChat("gpt-4o", "MARKER mail "+email, false, "")},
		{ruled, "/v1/chat/completions", pxChat("gpt-4o", "MARKER mail "+email, true, "")},
		{ruled, "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"MARKER mail ` + email + `"}]}`},
		{ruled, "/v1/messages", `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"MARKER mail ` + email + `"}]}`},
		{ruled, "/v1/responses", `{"model":"gpt-4o","input":"MARKER mail ` + email + `"}`},
		{ruled, "/v1/completions", `{"model":"gpt-3.5-turbo-instruct","prompt":"MARKER mail ` + email + `"}`},
		{ruled, "/v1/messages/count_tokens", `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"MARKER mail ` + email + `"}]}`},
		{routed, "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"MARKER mail ` + email + `"}]}`},
		{routed, "/v1/chat/completions", pxChat("claude-sonnet-4-6", "MARKER mail "+email, false, "")},
		{routed, "/v1/messages/count_tokens", `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"MARKER mail ` + email + `"}]}`},
	}
	refused, n := 0, 0
	deadline := time.Now().Add(3 * time.Minute)
	for round := 0; ; round++ {
		loaded := strings.Contains(string(pxDo(t, "GET", p.URL+"/ready", "").body), `"rules_loading":0`)
		for i, rq := range reqs {
			n++
			body := strings.ReplaceAll(rq.body, "MARKER", fmt.Sprintf("w4r-load-%d-%d", round, i))
			r := pxPost(t, p.URL+rq.path, rq.tok, body, "anthropic-version", "2023-06-01")
			switch r.status {
			case 503:
				refused++
				assert.Contains(t, string(r.body), "rules_loading", "%s: %s", rq.path, r.body)
			case 200:
			default:
				t.Errorf("%s (%d): status %d: %s", rq.path, i, r.status, r.body)
			}
			assert.NotContains(t, string(r.body), email, "%s (%d): the client got the address back unmasked", rq.path, i)
		}
		for _, up := range fake.Requests() {
			require.NotContains(t, string(up.Body), email, "a request reached the upstream unchecked: %s %s", up.Path, up.Body)
		}
		if loaded {
			break
		}
		require.True(t, time.Now().Before(deadline), "the rules did not load:\n%s", p.Logs())
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d requests, %d refused while loading", n, refused)
	assert.Positive(t, refused, "nothing was refused: the rules loaded before the first request")
	p.Stop(t)
}

// TestW4RSharedTemplateIsolation: tokens with byte-equal policies share one
// parsed policy and rule set (engineer C), but nothing per token: one
// token's spent budget, expiry, deletion or policy update leaves the others
// of the same policy as they were.
func TestW4RSharedTemplateIsolation(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	const pol = `{"max_tokens":400,"rules":[{"name":"pii","type":"pii","detect":["email"],"action":"mask","scope":"both"}]}`
	spender, _ := px.token(t, pol)
	expiring, _ := px.token(t, pol, "--expires", time.Now().Add(3*time.Second).UTC().Format(time.RFC3339))
	deleted, delHash := px.token(t, pol)
	updated, updHash := px.token(t, pol)
	keeper, _ := px.token(t, pol)
	chat := func(tok, text string) pxResp {
		return pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", text, false, `"max_tokens":50`))
	}
	for _, tok := range []string{spender, expiring, deleted, updated, keeper} {
		r := chat(tok, "hi zebra a@example.org")
		require.Equal(t, 200, r.status, "%s", r.body)
		assert.NotContains(t, string(r.body), "a@example.org")
	}
	// Spend the spender's budget.
	var last pxResp
	for i := 0; i < 20; i++ {
		if last = chat(spender, "spend [[fake:long=40]]"); last.status != 200 {
			break
		}
	}
	assert.Equal(t, 429, last.status, "the spender's budget is spent: %s", last.body)
	res := run(t, px.dir, px.env, "token", "delete", "--hash", delHash)
	require.Equal(t, 0, res.code, res.stderr)
	res = run(t, px.dir, px.env, "token", "update", "--hash", updHash, "--policy",
		`{"rules":[{"name":"pii","type":"pii","detect":["email"],"action":"mask","scope":"both"},{"name":"kw","type":"keyword","keywords":["zebra"],"action":"fail","scope":"input"}]}`)
	require.Equal(t, 0, res.code, res.stderr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if chat(deleted, "hi").status == 401 && chat(updated, "hi zebra").status == 403 && chat(expiring, "hi").status == 401 {
			break
		}
		require.True(t, time.Now().Before(deadline), "delete, update or expiry did not take effect")
		time.Sleep(100 * time.Millisecond)
	}
	for _, tok := range []string{keeper} {
		r := chat(tok, "hi zebra b@example.org")
		assert.Equal(t, 200, r.status, "an untouched token of the shared policy is served as before: %s", r.body)
		assert.NotContains(t, string(r.body), "b@example.org", "and still masked")
		u := pxUsage(t, px.url, tok)
		assert.Less(t, u.Used, int64(400), "the spender's usage is its own")
	}
	assert.Equal(t, 429, chat(spender, "spend [[fake:long=40]]").status)
	// A new token of the shared policy, created after all that, starts clean.
	fresh, _ := px.token(t, pol)
	r := chat(fresh, "hi zebra c@example.org")
	assert.Equal(t, 200, r.status, "%s", r.body)
	assert.NotContains(t, string(r.body), "c@example.org")
}

// TestW4RStreamUndecodableDelta: a delta whose JSON string the relay cannot
// decode (an unknown escape, a lone surrogate) next to an SSN: the output
// rules cannot read it, so the client must not get it as it came.
func TestW4RStreamUndecodableDelta(t *testing.T) {
	t.Parallel()
	px := w4rProxy(t)
	tok, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`)
	for _, path := range []string{"/v1/chat/completions", "/v1/messages", "/v1/responses"} {
		for _, bad := range []string{"BADESC", "BADSUR"} {
			for _, mode := range []string{"one", "sep"} {
				t.Run(path+"/"+bad+"/"+mode, func(t *testing.T) {
					script := "W4R|" + mode + "|W4Rstart |ssn 123-45-6789 " + bad + "|W4Rend|"
					r := pxPost(t, px.url+path, tok, w4rRequest(path, script), "anthropic-version", "2023-06-01")
					assert.NotContains(t, string(r.body), "123-45-6789", "an unreadable delta went out unchecked (status %d)", r.status)
				})
			}
		}
	}
}

// TestW4RStreamSplitToolArguments: an SSN cut over three tool-call argument
// deltas (JSON inside JSON), in one read or several: the client's joined
// arguments are masked and still parse as JSON.
func TestW4RStreamSplitToolArguments(t *testing.T) {
	t.Parallel()
	px := w4rProxy(t)
	tok, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`)
	for _, mode := range []string{"one", "sep", "torn"} {
		t.Run(mode, func(t *testing.T) {
			script := "W4R|" + mode + "|TOOL|{QTqQT: QTssn 123-4|5-67|89QT}|"
			r := pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", script, true,
				`"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]`))
			require.Equal(t, 200, r.status, "%s", r.body)
			var args strings.Builder
			data, _ := pxSSE(r.body)
			for _, d := range data {
				var v map[string]any
				if json.Unmarshal([]byte(d), &v) == nil {
					args.WriteString(pxStr(v, "choices", 0, "delta", "tool_calls", 0, "function", "arguments"))
				}
			}
			assert.NotContains(t, args.String(), "123-45-6789", "%s", r.body)
			assert.NotContains(t, string(r.body), "123-45-6789")
			var obj map[string]any
			assert.NoError(t, json.Unmarshal([]byte(args.String()), &obj), "the joined arguments are JSON: %s", args.String())
			assert.Contains(t, string(r.body), "[DONE]")
		})
	}
}

// TestW4RStreamPoolAfterClientLeft: clients that hang up mid-stream (the
// relay returns early and goes back to the pool with held text) are
// followed by complete streams that carry exactly their own text.
func TestW4RStreamPoolAfterClientLeft(t *testing.T) {
	t.Parallel()
	px := w4rProxy(t)
	tok, _ := px.token(t, `{"max_tokens":1000000,"rules":[{"name":"pii-out","type":"pii","detect":["ssn"],"action":"mask","scope":"output"}]}`)
	pieces := strings.Repeat("left 123-45-|", 30)
	for i := 0; i < 8; i++ {
		path := []string{"/v1/chat/completions", "/v1/messages", "/v1/responses"}[i%3]
		req, err := http.NewRequest("POST", px.url+path, strings.NewReader(w4rRequest(path, "W4R|sep|"+pieces)))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("anthropic-version", "2023-06-01")
		resp, err := pxClient.Do(req)
		require.NoError(t, err)
		buf := make([]byte, 64)
		_, _ = io.ReadFull(resp.Body, buf)
		_ = resp.Body.Close() // gone mid-stream
		want := fmt.Sprintf("after-%d [REDACTED:ssn] W4Rend", i)
		r := pxPost(t, px.url+path, tok, w4rRequest(path, fmt.Sprintf("W4R|one|after-%d 123-4|5-6789 W4Rend|", i)), "anthropic-version", "2023-06-01")
		require.Equal(t, 200, r.status, "%s", r.body)
		assert.Equal(t, want, w4rText(r.body), "%s", path)
		assert.NotContains(t, string(r.body), "left")
	}
}
