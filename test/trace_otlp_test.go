package test

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// otlpSpan is one received span, flattened for assertions.
type otlpSpan struct {
	name, service  string
	trace, id, par string
	kind           ptrace.SpanKind
	status         ptrace.StatusCode
	attrs          map[string]any
}

// otlpReceiver is an OTLP/HTTP trace endpoint, decoding with the
// collector's own protobuf types.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []otlpSpan
	url   string
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r.url = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		er := ptraceotlp.NewExportRequest()
		if err := er.UnmarshalProto(b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.add(er.Traces())
		out, _ := ptraceotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *otlpReceiver) add(td ptrace.Traces) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		svc, _ := rs.Resource().Attributes().Get("service.name")
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < ss.Len(); k++ {
				s := ss.At(k)
				attrs := map[string]any{}
				s.Attributes().Range(func(k string, v pcommon.Value) bool {
					attrs[k] = v.AsRaw()
					return true
				})
				r.spans = append(r.spans, otlpSpan{name: s.Name(), service: svc.AsString(), trace: s.TraceID().String(),
					id: s.SpanID().String(), par: s.ParentSpanID().String(), kind: s.Kind(), status: s.Status().Code(), attrs: attrs})
			}
		}
	}
}

func (r *otlpReceiver) all() []otlpSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]otlpSpan(nil), r.spans...)
}

// tree returns the spans of the trace whose root is named root, by name.
func (r *otlpReceiver) tree(root string) (otlpSpan, map[string][]otlpSpan) {
	var top otlpSpan
	for _, s := range r.all() {
		if s.name == root && s.par == "0000000000000000" || s.name == root && s.par == "" {
			top = s
		}
	}
	kids := map[string][]otlpSpan{}
	for _, s := range r.all() {
		if top.trace != "" && s.trace == top.trace && s.id != top.id {
			kids[s.name] = append(kids[s.name], s)
		}
	}
	return top, kids
}

// TestTraceSpanTree: with tracing on, the real binary exports one server
// span per request, named "chat <model>", with the GenAI attributes, and a
// child per stage: auth, limits, the input rules with one span per rule,
// each upstream attempt and, for streams, the stream. A refusal carries
// its reason; with tracing off nothing is exported.
func TestTraceSpanTree(t *testing.T) {
	t.Parallel()
	rcv := startOTLPReceiver(t)
	e := pxStart(t, fmt.Sprintf("tracing:\n  enabled: true\n  endpoint: %s\n  service_name: tokenomics-e2e\n", rcv.url))
	tok, hash := e.token(t, `{"model_regex":"^gpt-4o","max_tokens":100000,`+
		`"rules":[{"name":"mask-mail","type":"pii","detect":["email"],"action":"mask","scope":"input"}]}`)

	r := pxPost(t, e.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "trace me, a@b.example [[fake:cached=3]]", false, ""))
	require.Equal(t, 200, r.status, "%s", r.body)
	r = pxPost(t, e.url+"/v1/chat/completions", tok, pxChat("gpt-4o-mini", "stream me", true, ""))
	require.Equal(t, 200, r.status, "%s", r.body)
	r = pxPost(t, e.url+"/v1/chat/completions", tok, pxChat("o3-mini", "refused", false, ""))
	require.Equal(t, 403, r.status, "%s", r.body)

	want := fakeTotalsByModel(t, e.fake)
	var top otlpSpan
	var kids map[string][]otlpSpan
	require.Eventually(t, func() bool {
		top, kids = rcv.tree("chat gpt-4o")
		_, skids := rcv.tree("chat gpt-4o-mini")
		ref, _ := rcv.tree("chat o3-mini")
		return top.id != "" && len(kids["upstream openai"]) == 1 && len(skids["stream"]) == 1 && ref.id != ""
	}, 60*time.Second, 100*time.Millisecond, "spans received: %v", rcv.all())

	require.Equal(t, "tokenomics-e2e", top.service)
	require.Equal(t, ptrace.SpanKindServer, top.kind)
	a := top.attrs
	require.Equal(t, "chat", a["gen_ai.operation.name"])
	require.Equal(t, "gpt-4o", a["gen_ai.request.model"])
	require.Equal(t, "gpt-4o", a["gen_ai.response.model"])
	require.Equal(t, "openai", a["gen_ai.provider.name"])
	require.Equal(t, "openai", a["gen_ai.system"])
	require.Equal(t, want["gpt-4o"].Input, a["gen_ai.usage.input_tokens"])
	require.Equal(t, want["gpt-4o"].Output, a["gen_ai.usage.output_tokens"])
	require.EqualValues(t, 3, a["gen_ai.usage.cache_read.input_tokens"])
	require.Equal(t, hash[:8], a["tokenomics.token.hash_prefix"])
	require.Positive(t, a["tokenomics.cost_micros"], "gpt-4o is priced by the shipped table")
	require.EqualValues(t, 200, a["http.response.status_code"])
	for _, stage := range []string{"auth", "limits", "rules request", "upstream openai"} {
		require.Len(t, kids[stage], 1, "stage %s; children %v", stage, kids)
		require.Equal(t, top.id, kids[stage][0].par, "stage %s is a child of the request", stage)
	}
	rule := kids["rule mask-mail"]
	require.Len(t, rule, 1)
	require.Equal(t, kids["rules request"][0].id, rule[0].par, "the rule call is a child of the rules stage")
	require.Equal(t, "pii", rule[0].attrs["tokenomics.plugin"])
	up := kids["upstream openai"][0]
	require.Equal(t, ptrace.SpanKindClient, up.kind)
	require.EqualValues(t, 200, up.attrs["http.response.status_code"])
	require.EqualValues(t, 1, up.attrs["tokenomics.attempt"])

	stop, skids := rcv.tree("chat gpt-4o-mini")
	require.Equal(t, want["gpt-4o-mini"].Output, stop.attrs["gen_ai.usage.output_tokens"])
	require.Equal(t, stop.id, skids["stream"][0].par)

	ref, _ := rcv.tree("chat o3-mini")
	require.Equal(t, "model_not_allowed", ref.attrs["tokenomics.refusal.reason"])
	require.Equal(t, ptrace.StatusCodeError, ref.status)
}

// TestTraceOffExportsNothing: the default config traces nothing, even with
// a collector listening where the default endpoint would be.
func TestTraceOffExportsNothing(t *testing.T) {
	t.Parallel()
	rcv := startOTLPReceiver(t)
	e := pxStart(t, fmt.Sprintf("tracing:\n  endpoint: %s\n", rcv.url))
	tok, _ := e.token(t, `{"model_regex":"^gpt-4o","max_tokens":100000}`)
	r := pxPost(t, e.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "not traced", false, ""))
	require.Equal(t, 200, r.status, "%s", r.body)
	e.p.Stop(t) // a tracer would flush at shutdown
	require.Empty(t, rcv.all())
}
