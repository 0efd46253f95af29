package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

// streamMode says how upstream events become client events.
type streamMode uint8

const (
	modeOpenAI    streamMode = iota // OpenAI provider, OpenAI client: relayed
	modeAnthropic                   // Anthropic provider, Anthropic client: relayed
	modeTranslate                   // formats differ: translated through the hub
)

const (
	memoryCap = 64 << 10 // bytes of answer kept for conversation memory
)

// relay streams one upstream SSE response to the client. fasthttp runs it
// after the handler has returned, so it owns everything it touches: the
// upstream response, the lease and its own copies of the request facts. It
// never touches the exchange or the RequestCtx.
type relay struct {
	// closeDecoder releases the decompressor of the upstream body.
	closeDecoder func()
	s            *Server
	tok          *tokenEntry
	a            attempt
	ep           endpoint
	mode         streamMode
	reqID        string
	model        string
	start        time.Time
	resp         *fasthttp.Response
	lease        *limits.Lease
	cost         costHold // the dollar lease and price, settled with the tokens
	owed         int64    // usage of earlier attempts that reached a provider
	memReq       memTexts // conversation memory's texts, from the exchange (finishStream hands them on)

	parser    sse.Parser
	oa        openai.StreamState
	an        anthropic.StreamState
	tr        *hub.Stream
	dropUsage bool // the proxy asked for the usage chunk, the client did not

	rules    *tokenRules
	rctx     context.Context // non-nil: output rules apply
	filters  []*textFilter
	spare    []*textFilter // filters of earlier streams, for reuse
	limited  limitedReader // the bounded upstream body (source)
	verdict  rules.Verdict
	findings findingSet

	refs    []providers.TextRef
	edits   []providers.Edit
	text    []byte
	spliced []byte
	answer  []byte
	out     []byte // what one read sends the client

	// The events of one upstream read that carry text, held until the
	// read is parsed so the output rules run once per read and filter,
	// not once per event (see hold and settle).
	held      []heldEvent
	heldBytes []byte              // their names and data
	heldText  []byte              // their decoded texts
	heldRefs  []providers.TextRef // their texts' places in data
	heldSpans [][2]int            // each ref's text in heldText; -1: not decodable

	span, streamSpan trace.Span // the request's, handed over (trace.go)
	tctx             context.Context

	blocked     bool
	clientGone  bool
	budgetCut   bool        // the upstream went past the reservation: cut, see streamcut.go
	choices     int64       // n of the request
	outAllow    int64       // output fragments the reservation holds; 0: no cut
	fragments   int64       // non-empty generated fragments seen
	cut         atomic.Bool // set by Shutdown: stop relaying, settle, tell the client
	upstreamErr error
}

// textFilter is the output-rule stream of one generated text (a choice's
// content, a tool call's arguments); template is the last event that
// carried it, reused to deliver the held-back tail at the end.
type textFilter struct {
	kind        string
	index, part int
	stream      *rules.Stream
	template    []byte
	ref         providers.TextRef
	pending     bool
	// sent is every piece of the text the client was given (native
	// Responses streams only), fed whether any text went through stream.
	sent []byte
	fed  bool
	// During settle: whether the held events fed this text, its last held
	// ref (whose event carries what the check lets through) and that text.
	held bool
	last int
	emit []byte
}

// heldEvent is one held event: its name and data in heldBytes, its refs
// and spans from firstRef on.
type heldEvent struct {
	name, data     [2]int
	firstRef, refs int
}

var relayBufPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// relayPool keeps relays, and so their buffers, from one stream to the
// next: a relay's buffers grow to a read's worth of events and texts.
var relayPool = sync.Pool{New: func() any { return new(relay) }}

// maxSpareFilters bounds the text filters a pooled relay keeps: one per
// choice or tool call of an answer, usually one or two.
const maxSpareFilters = 8

// releaseRelay empties r for the next stream, keeping its buffers. It runs
// last in run, once close has settled, reported and unregistered r.
func releaseRelay(r *relay) {
	// Memory texts of a relay that never finished go back.
	r.memReq.Release()
	spare := r.spare // reset when reused (filterFor); a few are enough
	for _, f := range r.filters {
		if len(spare) < maxSpareFilters {
			spare = append(spare, f)
		}
	}
	clear(r.filters)
	*r = relay{parser: r.parser, refs: r.refs[:0], edits: r.edits[:0], text: r.text[:0], spliced: r.spliced[:0],
		answer: r.answer[:0], out: r.out[:0], filters: r.filters[:0], spare: spare, verdict: r.verdict,
		held: r.held[:0], heldBytes: r.heldBytes[:0], heldText: r.heldText[:0], heldRefs: r.heldRefs[:0], heldSpans: r.heldSpans[:0]}
	r.verdict.Reset()
	r.parser.Reset()
	relayPool.Put(r)
}

// startStream hands a 200 stream to a relay and returns: the handler is done.
func (x *exchange) startStream(ctx *fasthttp.RequestCtx, a attempt, resp *fasthttp.Response) error {
	r := relayPool.Get().(*relay)
	r.s, r.tok, r.a, r.ep, r.reqID, r.model, r.start = x.s, x.tok, a, x.ep, x.reqID, a.model, x.start
	r.resp, r.lease, r.cost, r.owed, r.rules = resp, x.lease, x.cost, x.owed, x.tok.rules
	x.settled = true // the relay settles
	x.cost.lease = nil
	r.setBudgetCut(x)
	r.setCostCut(x)
	switch {
	case translated(x.ep, a.prov.format):
		r.mode = modeTranslate
		r.tr = hub.NewStream(hub.ProviderWire(a.prov.format), x.ep.wire(), a.model, time.Now().Unix(), x.clientUsage, x.estimate)
	case a.prov.format == providers.Anthropic:
		r.mode = modeAnthropic
		r.an.Reset(x.estimate)
	default:
		r.mode = modeOpenAI
		r.oa.Reset(x.ep.openai(), x.estimate)
		r.dropUsage = !x.clientUsage && x.ep != epResponses
	}
	if x.tok.memory != nil {
		x.memoryRequest()
		r.memReq = x.takeMemory()
	}
	if r.rules != nil && r.rules.output {
		// Every check runs on the relay's goroutine, before close: there is
		// no call left to cancel when the stream ends.
		r.rctx = context.Background()
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	x.traceHandOver(r)
	x.setCapHeader(&ctx.Response.Header)
	x.s.flight.addRelay(r)
	ctx.SetBodyStreamWriter(r.run)
	return nil
}

func (r *relay) run(w *bufio.Writer) {
	defer releaseRelay(r)
	defer r.close()
	src, err := r.source()
	if err != nil {
		r.upstreamErr = err
		r.writeTail(w)
		return
	}
	bp := relayBufPool.Get().(*[]byte)
	defer relayBufPool.Put(bp)
	buf := *bp
	out := r.out[:0]
	for !r.blocked && !r.cut.Load() && !r.budgetCut {
		n, rerr := src.Read(buf)
		if n > 0 {
			r.parser.Feed(buf[:n])
			out = r.drain(out[:0])
			if r.lease != nil {
				// The renewer sends this with the next KeepAlive: if the
				// proxy dies now, the lease bills what was produced.
				r.lease.Report(limits.SatAdd(r.usage().Total(), r.owed))
			}
			if r.cost.lease != nil {
				r.cost.lease.Report(r.cost.charge(r.usage()))
			}
			if len(out) > 0 && !r.write(w, out) {
				r.out = out
				return
			}
		}
		if rerr != nil {
			if rerr != io.EOF {
				r.upstreamErr = rerr
			}
			break
		}
	}
	r.out = out
	r.writeTail(w)
}

// source returns the upstream body, decompressing it when the provider
// compressed the stream.
func (r *relay) source() (io.Reader, error) {
	dec, closeFn, err := decoder(r.resp.Header.ContentEncoding(), r.resp.BodyStream())
	r.closeDecoder = closeFn
	if err != nil {
		return nil, err
	}
	// Every stream is bounded, compressed or not: the relay never hands
	// on more than server.max_response_bytes of decoded text.
	r.limited = limitedReader{r: dec, n: r.s.cfg.Server.MaxResponseBytes}
	return &r.limited, nil
}

// writeTail finishes the client's stream: the held-back text, a clean end
// for translated streams, and an error event if the upstream broke.
func (r *relay) writeTail(w *bufio.Writer) {
	if r.clientGone {
		return
	}
	out := r.out[:0]
	defer func() { r.out = out[:0] }() // the relay's buffer, kept for the next stream
	if r.budgetCut && !r.blocked {
		out = r.flushFilters(out)
		if !r.blocked {
			out = r.appendTruncation(out)
		}
		r.write(w, out)
		return
	}
	if !r.blocked {
		if ev, ok, err := r.parser.Flush(); err == nil && ok {
			out = r.event(out, ev)
		}
		out = r.flushFilters(out)
	}
	if r.cut.Load() && !r.done() && !r.blocked {
		r.upstreamErr = errShutdownCut
		r.write(w, r.errorEvent(out, &core.Error{Status: 503, Type: core.TypeServer, Code: "server_shutting_down",
			Message: "The proxy is shutting down; the answer was cut here. Usage so far is charged."}))
		return
	}
	if r.upstreamErr != nil || !r.done() {
		if r.upstreamErr == nil && !r.blocked {
			r.upstreamErr = io.ErrUnexpectedEOF
		}
		if !r.blocked {
			out = r.errorEvent(out, &core.Error{Status: 502, Type: core.TypeUpstream, Code: "upstream_stream_broken",
				Message: "The provider's stream ended before it was complete."})
		}
	}
	if r.mode == modeTranslate && r.upstreamErr == nil && !r.blocked {
		out = r.tr.Close(out) // a clean end; a broken stream ends at its error event
	}
	r.write(w, out)
}

func (r *relay) done() bool {
	switch r.mode {
	case modeTranslate:
		return r.tr.Done()
	case modeAnthropic:
		return r.an.Done()
	}
	return r.oa.Done()
}

// write sends out and flushes; false means the client went away.
func (r *relay) write(w *bufio.Writer, out []byte) bool {
	if len(out) == 0 {
		return true
	}
	if _, err := w.Write(out); err != nil {
		r.clientGone = true
		return false
	}
	if err := w.Flush(); err != nil {
		r.clientGone = true
		return false
	}
	return true
}

// drain handles every complete event the parser holds.
func (r *relay) drain(out []byte) []byte {
	for !r.blocked && !r.budgetCut {
		ev, ok, err := r.parser.Next()
		if err != nil {
			out = r.settle(out) // what was read before is checked and sent
			r.upstreamErr = err
			r.blocked = true // stop reading: the stream is unusable
			return out
		}
		if !ok {
			return r.settle(out) // the read is parsed: one check for its texts
		}
		mark, held := len(out), len(r.held)
		out = r.event(out, ev)
		if !r.blocked && r.countFragments(ev.Data) {
			r.budgetCut = true
			// What went past the reservation stays behind, unchecked.
			r.held = r.held[:min(held, len(r.held))]
			return r.settle(out[:mark])
		}
	}
	return out
}

// event accounts for one upstream event, runs the output rules on its text
// and appends what the client gets.
func (r *relay) event(out []byte, ev sse.Event) []byte {
	data := ev.Data
	var err error
	switch r.mode {
	case modeOpenAI:
		r.refs, err = r.oa.Feed(r.refs[:0], data)
	case modeAnthropic:
		r.refs, err = r.an.Feed(r.refs[:0], data)
	case modeTranslate: // the translator accounts; refs only when someone reads them
		r.refs = r.refs[:0]
		if r.rctx != nil || !r.memReq.IsZero() {
			r.refs, err = r.tr.DeltaTexts(r.refs, data)
		}
	}
	if err != nil {
		r.refs = r.refs[:0] // relay what cannot be read; accounting skips it
		if r.rctx != nil {
			// Unless output rules apply: what they cannot read, the
			// client does not get.
			return r.flushFilters(out)
		}
	}
	if r.rctx != nil {
		if len(r.refs) == 0 {
			if out = r.flushFilters(out); r.blocked {
				return out
			}
			if r.mode == modeOpenAI && r.ep == epResponses {
				var e *core.Error
				if data, e = r.reconcile(data); e != nil {
					r.blocked = true
					if e.Err != nil {
						r.upstreamErr = e.Err
					}
					return r.errorEvent(out, e)
				}
			}
		}
		if len(r.refs) > 0 {
			r.hold(ev.Name, data)
			return out
		}
	} else if !r.memReq.IsZero() {
		r.rememberRefs(data)
	}
	return r.emit(out, ev.Name, data)
}

// emit appends one event in the client's format.
func (r *relay) emit(out []byte, name, data []byte) []byte {
	switch r.mode {
	case modeTranslate:
		o, err := r.tr.Translate(out, data)
		if err != nil {
			return out
		}
		return o
	case modeOpenAI:
		if r.dropUsage && isUsageOnly(data) {
			return out
		}
	}
	return sse.AppendEvent(out, name, data)
}

// isUsageOnly spots the final usage chunk the proxy asked for on the
// client's behalf: a usage object and an empty choices array, however the
// provider spaces its JSON.
func isUsageOnly(data []byte) bool {
	if !bytes.Contains(data, []byte(`"usage"`)) {
		return false
	}
	sc := providers.NewScanner(data)
	if sc.Peek() != providers.KindObject {
		return false
	}
	obj := sc.Object()
	emptyChoices, usage := false, false
	for {
		key, ok := obj.Next()
		if !ok {
			break
		}
		switch string(sc.Key(key)) {
		case "choices":
			if sc.Peek() != providers.KindArray {
				sc.Skip()
				continue
			}
			arr := sc.Array()
			n := 0
			for arr.Next() {
				n++
				sc.Skip()
			}
			emptyChoices = n == 0
		case "usage":
			usage = sc.Peek() == providers.KindObject
			sc.Skip()
		default:
			sc.Skip()
		}
	}
	return sc.Err() == nil && emptyChoices && usage
}

// hold keeps an event whose texts the output rules must read until the
// upstream read is parsed (settle): one check of everything the read
// brought costs one rule call per text instead of one per event, and the
// held-back tail is scanned once per read rather than once per delta.
func (r *relay) hold(name, data []byte) {
	e := heldEvent{firstRef: len(r.heldRefs), refs: len(r.refs)}
	e.name[0] = len(r.heldBytes)
	r.heldBytes = append(r.heldBytes, name...)
	e.name[1] = len(r.heldBytes)
	r.heldBytes = append(r.heldBytes, data...)
	e.data = [2]int{e.name[1], len(r.heldBytes)}
	for _, ref := range r.refs {
		start := len(r.heldText)
		var err error
		if r.heldText, err = providers.DecodeText(r.heldText, data, ref); err != nil {
			r.heldText = r.heldText[:start]
			start = -1
		}
		r.heldRefs = append(r.heldRefs, ref)
		r.heldSpans = append(r.heldSpans, [2]int{start, len(r.heldText)})
	}
	r.held = append(r.held, e)
}

// settle runs the held events' texts through their output streams, one
// check per text, and appends the events: a text's last held event carries
// what the check lets through, its earlier ones carry none (as an event
// whose text is still held back does). A block sends none of them.
func (r *relay) settle(out []byte) []byte {
	if len(r.held) == 0 {
		return out
	}
	defer r.clearHeld()
	for _, e := range r.held {
		for j := e.firstRef; j < e.firstRef+e.refs; j++ {
			sp := r.heldSpans[j]
			if sp[0] < 0 {
				continue // relayed as it came, as before the rules could read it
			}
			f := r.filterFor(r.heldRefs[j])
			f.stream.Append(r.heldText[sp[0]:sp[1]])
			f.held, f.last = true, j
		}
	}
	for _, f := range r.filters {
		if !f.held {
			continue
		}
		var emit []byte
		var err error
		if wholeText(providers.TextRef{Kind: f.kind, Part: f.part}) {
			// A citation (url, title, cited text) or Anthropic's server
			// tool result is whole in its event: checked all at once,
			// nothing held for a later delta.
			emit, err = f.stream.Flush(&r.verdict)
		} else {
			emit, err = f.stream.Write(nil, &r.verdict)
		}
		r.findings.add(&r.verdict)
		if err != nil || r.verdict.Action == rules.Block {
			r.blocked = true
			return r.errorEvent(out, r.blockError())
		}
		f.emit = emit // valid until this stream's next Write or Flush
		f.fed = true
		if r.keepSent() {
			f.sent = append(f.sent, emit...)
		}
		if f.kind == providers.TextDelta {
			r.rememberText(emit)
		}
	}
	for _, e := range r.held {
		data := r.heldBytes[e.data[0]:e.data[1]]
		r.edits = r.edits[:0]
		for j := e.firstRef; j < e.firstRef+e.refs; j++ {
			if r.heldSpans[j][0] < 0 {
				continue
			}
			ref := r.heldRefs[j]
			f := r.filterFor(ref)
			var text []byte
			if f.last == j {
				text = f.emit
				f.template = append(f.template[:0], data...)
				f.ref, f.pending = ref, true
			}
			r.edits = append(r.edits, providers.Edit{Ref: ref, Text: text})
		}
		spliced, err := providers.Splice(r.spliced[:0], data, r.edits)
		if err != nil {
			continue // fail closed: an event the proxy cannot rewrite is not sent
		}
		r.spliced = spliced
		out = r.emit(out, r.heldBytes[e.name[0]:e.name[1]], spliced)
	}
	r.retireWhole()
	return out
}

// retireWhole lets go of the filters of whole texts (citations, server
// tool results, error messages) once their events are out: each was
// checked once, in full, and a stream that cites a lot would otherwise
// keep one filter per text to its end.
func (r *relay) retireWhole() {
	keep := r.filters[:0]
	for _, f := range r.filters {
		switch {
		case !wholeText(providers.TextRef{Kind: f.kind, Part: f.part}):
			keep = append(keep, f)
		case len(r.spare) < maxSpareFilters:
			r.spare = append(r.spare, f)
		}
	}
	clear(r.filters[len(keep):])
	r.filters = keep
}

func (r *relay) clearHeld() {
	for _, f := range r.filters {
		f.held, f.emit = false, nil
	}
	r.held, r.heldBytes, r.heldText = r.held[:0], r.heldBytes[:0], r.heldText[:0]
	r.heldRefs, r.heldSpans = r.heldRefs[:0], r.heldSpans[:0]
}

// keepSent says whether filters keep the text they let through: a native
// Responses stream repeats every text in full in its .done events and in
// response.completed, which reconcile rewrites.
func (r *relay) keepSent() bool { return r.mode == modeOpenAI && r.ep == epResponses }

// reconcile replaces every full text a Responses event repeats
// (output_text.done, output_item.done, response.completed, ...) with what
// the client was given of it: the filtered deltas. A text no delta carried
// is checked whole now. Nothing the rules did not read is forwarded: an
// event whose texts cannot be replaced ends the stream.
func (r *relay) reconcile(data []byte) ([]byte, *core.Error) {
	var err error
	if r.refs, err = openai.DoneTexts(r.refs[:0], data); err != nil || len(r.refs) == 0 {
		r.refs = r.refs[:0]
		return data, nil // Feed read it: err cannot happen
	}
	r.edits = r.edits[:0]
	for _, ref := range r.refs {
		f := r.filterFor(ref)
		if !f.fed {
			f.fed = true
			if r.text, err = providers.DecodeText(r.text[:0], data, ref); err != nil {
				return nil, badStreamEvent()
			}
			emit, err := f.stream.Write(r.text, &r.verdict)
			r.findings.add(&r.verdict)
			if err != nil || r.verdict.Action == rules.Block {
				return nil, r.blockError()
			}
			f.sent = append(f.sent, emit...)
			tail, err := f.stream.Flush(&r.verdict)
			r.findings.add(&r.verdict)
			if err != nil || r.verdict.Action == rules.Block {
				return nil, r.blockError()
			}
			f.sent = append(f.sent, tail...)
		}
		r.edits = append(r.edits, providers.Edit{Ref: ref, Text: f.sent})
	}
	r.refs = r.refs[:0]
	out, err := providers.Splice(r.spliced[:0], data, r.edits)
	if err != nil {
		return nil, badStreamEvent()
	}
	r.spliced = out
	return out, nil
}

var errBadStreamEvent = errors.New("proxy: a stream event could not be filtered")

func badStreamEvent() *core.Error {
	return &core.Error{Status: 502, Type: core.TypeUpstream, Code: "upstream_bad_body",
		Message: "The provider's stream could not be read.", Err: errBadStreamEvent}
}

func (r *relay) filterFor(ref providers.TextRef) *textFilter {
	for _, f := range r.filters {
		if f.kind == ref.Kind && f.index == ref.Index && f.part == ref.Part {
			return f
		}
	}
	var f *textFilter
	if n := len(r.spare); n > 0 {
		f, r.spare = r.spare[n-1], r.spare[:n-1]
		f.stream.Reset(r.rules.set, r.rctx)
		*f = textFilter{stream: f.stream, template: f.template[:0], sent: f.sent[:0]}
	} else {
		f = &textFilter{stream: r.rules.set.NewStream(r.rctx)}
	}
	f.kind, f.index, f.part = ref.Kind, ref.Index, ref.Part
	r.filters = append(r.filters, f)
	return f
}

// flushFilters delivers every held-back tail, each in a copy of the last
// event that carried its text, before an event that carries none (a
// finish chunk, usage, [DONE]).
func (r *relay) flushFilters(out []byte) []byte {
	if out = r.settle(out); r.blocked {
		return out
	}
	for _, f := range r.filters {
		if !f.pending || r.blocked {
			continue
		}
		f.pending = false
		tail, err := f.stream.Flush(&r.verdict)
		r.findings.add(&r.verdict)
		if err != nil || r.verdict.Action == rules.Block {
			r.blocked = true
			return r.errorEvent(out, r.blockError())
		}
		if len(tail) == 0 {
			continue
		}
		if r.keepSent() {
			f.sent = append(f.sent, tail...)
		}
		r.edits = append(r.edits[:0], providers.Edit{Ref: f.ref, Text: tail})
		ev, err := providers.Splice(r.spliced[:0], f.template, r.edits)
		if err != nil {
			continue
		}
		r.spliced = ev
		r.rememberText(tail)
		out = r.emit(out, r.eventName(), ev)
	}
	return out
}

func (r *relay) eventName() []byte {
	if r.mode == modeAnthropic {
		return []byte("content_block_delta")
	}
	return nil
}

func (r *relay) blockError() *core.Error {
	return &core.Error{Status: 403, Type: core.TypePermission, Code: "content_policy_violation",
		Message: "Response blocked: " + blockReason(&r.verdict, r.reqID)}
}

// errorEvent appends an error in the client's stream format.
func (r *relay) errorEvent(out []byte, e *core.Error) []byte {
	if r.ep == epMessages {
		return sse.AppendEvent(out, []byte("error"), appendAnthropicError(nil, e.Type, e.Message, ""))
	}
	return sse.AppendData(out, e.AppendJSON(nil))
}

// rememberRefs keeps the generated text of an unfiltered event for
// conversation memory, from the refs the stream state already found.
func (r *relay) rememberRefs(data []byte) {
	for _, ref := range r.refs {
		if ref.Kind == providers.TextDelta && len(r.answer) < memoryCap {
			r.answer, _ = providers.DecodeText(r.answer, data, ref)
		}
	}
}

func (r *relay) rememberText(t []byte) {
	if !r.memReq.IsZero() && len(r.answer) < memoryCap {
		r.answer = append(r.answer, t...)
	}
}

func (r *relay) usage() providers.Usage {
	switch r.mode {
	case modeTranslate:
		return r.tr.Usage()
	case modeAnthropic:
		return r.an.Usage()
	}
	return r.oa.Usage()
}

// close settles what the stream produced, even when the client left early,
// and releases the upstream connection.
func (r *relay) close() {
	u := r.usage()
	charge := limits.SatAdd(r.charge(u), r.owed)
	r.s.settleCost(&r.cost, r.cutUsage(u), r.reqID, r.tok.short, r.budgetCut)
	r.s.flight.release(r.lease)
	if err := r.s.limiter.Settle(context.Background(), r.lease, charge); err != nil {
		r.s.log.Warn("settling stream usage failed", "request_id", r.reqID, "token", r.tok.short, "tokens", charge, "error", err)
	}
	if r.closeDecoder != nil {
		r.closeDecoder()
	}
	_ = r.resp.CloseBodyStream()
	fasthttp.ReleaseResponse(r.resp)
	status := 200
	switch {
	case r.blocked && r.upstreamErr == nil:
		status = 403
	case r.clientGone:
		status = 499
	case r.upstreamErr != nil:
		status = 502
	}
	r.s.reportFindingSet(r.tok, r.reqID, "stream", &r.findings)
	r.s.finishStream(r, status, u)
	r.traceClose(status, u)
	r.s.flight.removeRelay(r)
}

var errShutdownCut = errors.New("proxy: stream cut at shutdown")
