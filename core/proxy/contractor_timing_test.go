package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/memory"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/internal/benchdata"
)

// The contractor path: the seed's contractor policy (a system prompt, PII
// masking both ways, a regex and a keyword rule, conversation memory) on
// the request cmd/loadgen sends, through the real built-in plugins. These
// benchmarks are the per-request CPU and allocations of `make bench-load`'s
// proxy-contractor runs without the load generator and the fake upstream.

// contractorUserText is cmd/loadgen's question: about 800 bytes holding an
// e-mail address and a phone number, so the PII rule rewrites the body.
const contractorUserText = benchdata.Question

// contractorAnswerText is what the fake upstream answers it: the masked
// question echoed, so the output rules scan ~800 bytes and find nothing.
var contractorAnswerText = "Echo: " + strings.NewReplacer("maria.keller@example.com", "[REDACTED:email]",
	"(415) 555-0132", "[REDACTED:phone]").Replace(contractorUserText)

func contractorRequest(stream bool) []byte {
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	req := map[string]any{"model": "gpt-4o", "max_tokens": 256, "temperature": 0.2, "user": "loadgen",
		"messages": []message{{Role: "system", Content: "You are a senior Go reviewer. Answer concisely, with code where it helps."},
			{Role: "user", Content: contractorUserText}}}
	if stream {
		req["stream"] = true
		req["stream_options"] = map[string]bool{"include_usage": true}
	}
	b, err := json.Marshal(req)
	if err != nil {
		panic(err)
	}
	return b
}

// contractorPolicyJSON is cmd/loadgen's contractorPolicy with the memory
// file under dir.
func contractorPolicyJSON(dir string) string {
	return `{"model_regex":"^gpt-4o","max_tokens":1000000000000,"timeout":30,
  "prompts":[{"role":"system","content":"You are a helpful coding assistant. Only answer programming-related questions."}],
  "rules":` + benchdata.ContractorRules + `,
  "rate_limit":{"rules":[{"requests":100000000,"window":"1m"},{"tokens":1000000000000,"window":"1h"}],"max_parallel":4096},
  "metadata":{"role":"contractor","team":"external"},
  "memory":{"enabled":true,"file_path":` + strconv.Quote(filepath.Join(dir, "contractor-sessions.md")) + `}}`
}

// contractorUpstream answers like the fake upstream: a chat completion of
// the echoed question, or (stream) one chunk per ~4 bytes of it, the finish
// chunk, the usage chunk and [DONE], written at once.
func contractorUpstream(tb testing.TB) string {
	tb.Helper()
	answer := []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":` + strconv.Quote(contractorAnswerText) + `,"refusal":null},` +
		`"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":230,"completion_tokens":200,"total_tokens":430}}`)
	stream := []byte(contractorStream(contractorAnswerText))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if strings.Contains(string(ctx.Request.Header.Peek("Accept")), "event-stream") {
			ctx.SetContentType("text/event-stream")
			ctx.SetBody(stream)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(answer)
	}}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func contractorStream(text string) string {
	const head = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[`
	var b strings.Builder
	b.WriteString(head + `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n")
	for i := 0; i < len(text); i += 4 {
		piece, _ := json.Marshal(text[i:min(i+4, len(text))])
		b.WriteString(head + `{"index":0,"delta":{"content":` + string(piece) + `},"finish_reason":null}]}` + "\n\n")
	}
	b.WriteString(head + `{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n")
	b.WriteString(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[],` +
		`"usage":{"prompt_tokens":230,"completion_tokens":200,"total_tokens":430}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.String()
}

// newContractorServer is a Server with the real rules host over the
// built-in plugins, a memory writer and one contractor token, its rules
// compiled.
func newContractorServer(tb testing.TB, upstream string) (*Server, string, *memory.Writer, string) {
	s, toks, mem, memDir := newContractorServerWith(tb, upstream)
	return s, toks[0], mem, memDir
}

// newContractorServerWith is newContractorServer with more tokens, of
// the given policies, after the contractor's.
func newContractorServerWith(tb testing.TB, upstream string, policies ...string) (*Server, []string, *memory.Writer, string) {
	tb.Helper()
	dist := filepath.Join("..", "..", "plugins", "dist")
	if _, err := os.Stat(filepath.Join(dist, "builtin.wasm")); err != nil {
		tb.Skip("plugins/dist/builtin.wasm is missing: run make plugins")
	}
	h := contractorHost(tb, dist)
	memDir := tb.TempDir()
	mem := memory.New(memory.Options{AllowedDirs: []string{memDir}})
	tb.Cleanup(func() { _ = mem.Close(context.Background()) })
	cfg := &config.Config{Providers: []config.Provider{{Name: "openai", UpstreamURL: upstream,
		APIKeyEnv: "OPENAI_API_KEY", Models: []string{"gpt-4o", "gpt-4o-mini"}}}}
	cfg.SetDefaults()
	db, err := store.Open(filepath.Join(tb.TempDir(), "tokens.db"),
		store.Options{HashKey: []byte("bench-hash-key-0123456789abcdef0123"), LockTimeout: time.Second})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	var toks []string
	for _, p := range append([]string{contractorPolicyJSON(memDir)}, policies...) {
		p = strings.ReplaceAll(p, "{memdir}", memDir) // a memory file of the extra policies
		tok, _, err := db.Create([]byte(p), nil)
		require.NoError(tb, err)
		toks = append(toks, tok)
	}
	lim, err := limits.NewMemory(limits.MemoryOptions{})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = lim.Close() })
	s, err := New(Options{Config: cfg, Tokens: db, Hasher: db.Hasher(), Limiter: lim, Rules: h, Memory: mem,
		Getenv: func(string) string { return testProviderKey }})
	require.NoError(tb, err)
	// New serves at once while the rule plugins load; the calls measured
	// here are the warm path.
	for deadline := time.Now().Add(5 * time.Minute); s.rulesLoading() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("the contractor rules did not load within 5 minutes")
		}
	}
	return s, toks, mem, memDir
}

var sharedContractorHost struct {
	sync.Mutex
	h *rules.Host
}

// contractorHost is one rules host for the whole test binary: each
// benchmark run (-count) would otherwise compile the plugins again. It is
// never closed; the process ends.
func contractorHost(tb testing.TB, dist string) *rules.Host {
	sharedContractorHost.Lock()
	defer sharedContractorHost.Unlock()
	if sharedContractorHost.h == nil {
		// Generous bounds: a loaded machine (or -race) must not turn a
		// slow first call into a rule failure.
		h := rules.New(rules.Config{Builtins: os.DirFS(dist), CallTimeout: time.Minute, InitTimeout: time.Minute}, nil)
		require.NoError(tb, h.Provision(context.Background()))
		sharedContractorHost.h = h
	}
	return sharedContractorHost.h
}

// contractorLoop returns one handled contractor call on a reused
// RequestCtx; a stream's body is relayed to io.Discard. It returns the
// body the client got.
func contractorLoop(tb testing.TB, s *Server, tok string, stream bool) func() []byte {
	auth := "Bearer " + tok
	body := contractorRequest(stream)
	ctx := new(fasthttp.RequestCtx)
	req := new(fasthttp.Request)
	var sink bodySink
	return func() []byte {
		req.Reset()
		req.SetRequestURI("/v1/chat/completions")
		req.Header.SetMethod("POST")
		req.Header.Set("Authorization", auth)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
		ctx.Init(req, nil, nil)
		s.handle(ctx)
		if ctx.Response.StatusCode() != 200 {
			tb.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
		sink.b = sink.b[:0]
		if err := ctx.Response.BodyWriteTo(&sink); err != nil {
			tb.Fatal(err)
		}
		ctx.Response.Reset() // closes the stream writer's pipe
		return sink.b
	}
}

type bodySink struct{ b []byte }

func (s *bodySink) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }

var _ io.Writer = (*bodySink)(nil)

// BenchmarkProxyHandlerContractor is one contractor call through the
// handler: non-streamed and streamed (~200 deltas in one upstream write).
func BenchmarkProxyHandlerContractor(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := "chat"
		if stream {
			name = "stream"
		}
		b.Run(name, func(b *testing.B) {
			s, tok, _, _ := newContractorServer(b, contractorUpstream(b))
			run := contractorLoop(b, s, tok, stream)
			out := run()
			require.NotContains(b, string(out), "maria.keller")
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for b.Loop() {
				run()
			}
			// Wall time on a shared machine measures the neighbours too;
			// the process's CPU time per call (proxy, relay and the
			// in-process upstream together) is what the change moves.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// streamText joins the content deltas of an OpenAI chat stream.
func streamText(tb testing.TB, body []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(body), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		require.NoError(tb, json.Unmarshal([]byte(data), &chunk), data)
		for _, c := range chunk.Choices {
			b.WriteString(c.Delta.Content)
		}
	}
	return b.String()
}

// TestContractorPathAnswers is the benchmarks' path checked: the answer
// (streamed or not) reaches the client whole, memory records the masked
// request and the answer.
func TestContractorPathAnswers(t *testing.T) {
	s, tok, mem, memDir := newContractorServer(t, contractorUpstream(t))
	chat := contractorLoop(t, s, tok, false)
	var answer struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	require.NoError(t, json.Unmarshal(chat(), &answer))
	require.Len(t, answer.Choices, 1)
	assert.Equal(t, contractorAnswerText, answer.Choices[0].Message.Content)
	stream := contractorLoop(t, s, tok, true)
	for range 3 {
		body := stream()
		assert.Equal(t, contractorAnswerText, streamText(t, body))
		assert.Equal(t, 1, strings.Count(string(body), `"usage"`), "the usage chunk the client asked for")
		assert.True(t, strings.HasSuffix(string(body), "data: [DONE]\n\n"))
	}
	require.NoError(t, mem.Close(context.Background()))
	b, err := os.ReadFile(filepath.Join(memDir, "contractor-sessions.md"))
	require.NoError(t, err)
	log := string(b)
	assert.Equal(t, 4, strings.Count(log, "\n---\n"), "one record per answered call")
	assert.Equal(t, 4, strings.Count(log, "**system:**\n\n> You are a helpful coding assistant."), "the policy prompt")
	assert.Equal(t, 4, strings.Count(log, "**user:**\n\n> I am reviewing a Go service"), "the question")
	assert.Equal(t, 8, strings.Count(log, "the service is [REDACTED:email], [REDACTED:phone], if you need"), "masked, in the question and its echo")
	assert.Equal(t, 4, strings.Count(log, "**assistant:**\n\n> Echo: I am reviewing"), "the answer")
	assert.NotContains(t, log, "maria.keller")
}

// TestContractorPathAllocs keeps the contractor path's allocations where
// this work left them: beyond what a token without rules or memory
// allocates on the same calls, a call allocates only what the rule host's
// matchers allocate (one slice per regexp match: the e-mail address and
// the phone number). Conversation memory allocates nothing, streamed or
// not: its texts go to the writer in pooled buffers (memory.Texts), which
// a token with memory and no rules shows on its own. The figures before
// and after are in docs/BENCHMARKS.md.
func TestContractorPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race are the detector's")
	}
	s, toks, mem, _ := newContractorServerWith(t, contractorUpstream(t), `{"model_regex":"^gpt-4o","max_tokens":1000000000000}`,
		`{"model_regex":"^gpt-4o","max_tokens":1000000000000,
		  "prompts":[{"role":"system","content":"You are a helpful coding assistant."}],
		  "memory":{"enabled":true,"file_path":"{memdir}/memory-only.md"}}`)
	measure := func(f func() []byte) float64 {
		f() // warm pools and buffers
		best := -1.0
		for range 5 {
			if a := testing.AllocsPerRun(100, func() { f() }); best < 0 || a < best {
				best = a
			}
		}
		return best
	}
	for _, tc := range []struct {
		stream bool
		extra  float64
	}{{false, 2}, {true, 2}} {
		written := mem.Written()
		contractor := measure(contractorLoop(t, s, toks[0], tc.stream))
		plain := measure(contractorLoop(t, s, toks[1], tc.stream))
		memOnly := measure(contractorLoop(t, s, toks[2], tc.stream))
		t.Logf("stream %v: contractor %.1f allocs, memory only %.1f, plain %.1f", tc.stream, contractor, memOnly, plain)
		assert.LessOrEqual(t, contractor-plain, tc.extra, "stream %v: contractor %.1f allocs, plain %.1f", tc.stream, contractor, plain)
		assert.LessOrEqual(t, memOnly-plain, 0.0, "stream %v: memory only %.1f allocs, plain %.1f", tc.stream, memOnly, plain)
		assert.Greater(t, mem.Written()+mem.Dropped(), written+1000, "the calls measured were recorded")
	}
}

// ruleCalls sums the rule host's call counts for rule in s's metrics.
func ruleCalls(tb testing.TB, s *Server, rule string) int {
	var b strings.Builder
	require.NoError(tb, s.reg.WriteText(&b))
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "tokenomics_rule_call_seconds_count{") && strings.Contains(line, `rule="`+rule+`"`) {
			f := strings.Fields(line)
			v, err := strconv.Atoi(f[len(f)-1])
			require.NoError(tb, err, line)
			n += v
		}
	}
	return n
}

// TestStreamOutputRulesPerRead: a stream's output rules run once per
// upstream read, not once per event: ~200 deltas in one upstream write
// cost a handful of checks (the request's, one per read of the relay's
// 16 KiB buffer, the final flush), and the answer is whole.
func TestStreamOutputRulesPerRead(t *testing.T) {
	s, tok, _, _ := newContractorServer(t, contractorUpstream(t))
	stream := contractorLoop(t, s, tok, true)
	stream() // warm
	before := ruleCalls(t, s, "pii-mask")
	body := stream()
	calls := ruleCalls(t, s, "pii-mask") - before
	events := strings.Count(string(body), "data: ")
	require.Greater(t, events, 200, "the stream's events reached the client")
	assert.Equal(t, contractorAnswerText, streamText(t, body))
	assert.Positive(t, calls)
	assert.LessOrEqual(t, calls, 12, "%d pii-mask checks for %d events", calls, events)
}
