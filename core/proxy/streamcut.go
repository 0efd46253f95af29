package proxy

import (
	"strconv"
	"time"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

// A stream stops at the budget. The proxy lowers the upstream's output cap
// to what the budget leaves, but a provider may ignore it; the relay then
// cuts the stream itself once the upstream has provably produced more
// output than the reservation holds, settles it, and ends the client's
// stream the way the format ends a truncated answer (finish_reason
// "length", stop_reason "max_tokens", Responses "incomplete"), so an SDK
// sees a normal, cut answer.
//
// "Provably" counts generated fragments, not estimated tokens: every
// non-empty delta a provider streams carries at least one token, so the
// count never exceeds the true output, and an honest provider that stops
// at its cap is never cut (an estimate of prose can run 1.5 × above the
// true count, and would cut long answers short).

// setBudgetCut arms the cut: the output the lease leaves room for after
// the prompt's worst case and earlier attempts.
func (r *relay) setBudgetCut(x *exchange) {
	r.choices = x.choices
	if x.lease == nil || x.ep == epEmbeddings {
		return
	}
	r.outAllow = x.lease.Reserved() - x.owed - x.promptMax()
	if r.outAllow < 1 {
		r.outAllow = 1 // the floor granted at least one token per choice
	}
}

// countFragments adds the event's non-empty generated fragments and
// reports whether the stream has gone past its output allowance.
func (r *relay) countFragments(data []byte) bool {
	if r.outAllow <= 0 {
		return false
	}
	if r.mode == modeTranslate && r.rctx == nil && r.memReq.IsZero() {
		r.refs, _ = r.tr.DeltaTexts(r.refs[:0], data) // event() skipped them
	}
	for _, ref := range r.refs {
		// More than the quotes of "", and generated: a citation or a
		// server tool's result carries no output token.
		if ref.End-ref.Start > 2 && !wholeText(ref) {
			r.fragments++
		}
	}
	return r.fragments > r.outAllow
}

// charge is what the stream settles: its usage, and when the budget cut
// it, no more than the reservation (what went past it never reached the
// client).
func (r *relay) charge(u providers.Usage) int64 {
	total := u.Total()
	if r.budgetCut && r.lease != nil {
		total = min(total, r.lease.Reserved()-r.owed)
	}
	return total
}

// appendTruncation ends a budget-cut stream in the client's format: the
// truncation finish for every choice, the usage when the client asked for
// it, and the format's end marker.
func (r *relay) appendTruncation(out []byte) []byte {
	u := r.usage()
	if u.Reported {
		u.CompletionTokens = max(u.CompletionTokens, r.fragments)
	}
	switch r.mode {
	case modeTranslate:
		// The translator ends in the client's format (length,
		// max_tokens or incomplete), whatever the provider's.
		return r.tr.Truncate(out)
	case modeAnthropic:
		out = sse.AppendEvent(out, []byte("message_delta"), appendAnthropicCut(nil, u))
		return sse.AppendEvent(out, []byte("message_stop"), []byte(`{"type":"message_stop"}`))
	}
	now := time.Now().Unix()
	switch r.ep {
	case epResponses:
		return sse.AppendEvent(out, []byte("response.incomplete"), r.appendResponsesCut(nil, u, now))
	case epCompletions:
		for i := range r.choices {
			out = sse.AppendData(out, r.appendChunk(nil, "text_completion", now, i, `{"text":"","index":`, `,"logprobs":null,"finish_reason":"length"}`))
		}
	default:
		for i := range r.choices {
			out = sse.AppendData(out, r.appendChunk(nil, "chat.completion.chunk", now, i, `{"index":`, `,"delta":{},"logprobs":null,"finish_reason":"length"}`))
		}
	}
	if !r.dropUsage {
		b := r.appendChunkHead(nil, "chat.completion.chunk", now)
		if r.ep == epCompletions {
			b = r.appendChunkHead(nil, "text_completion", now)
		}
		b = append(b, `"choices":[],"usage":`...)
		b = appendOpenAIUsageObject(b, u)
		out = sse.AppendData(out, append(b, '}'))
	}
	return sse.AppendData(out, []byte("[DONE]"))
}

func (r *relay) appendChunkHead(b []byte, object string, now int64) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, r.reqID...)
	b = append(b, `","object":"`...)
	b = append(b, object...)
	b = append(b, `","created":`...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, `,"model":`...)
	b = core.AppendJSONString(b, r.model)
	return append(b, ',')
}

func (r *relay) appendChunk(b []byte, object string, now int64, i int64, open, close string) []byte {
	b = r.appendChunkHead(b, object, now)
	b = append(b, `"choices":[`...)
	b = append(b, open...)
	b = strconv.AppendInt(b, i, 10)
	b = append(b, close...)
	return append(b, "]}"...)
}

func appendOpenAIUsageObject(b []byte, u providers.Usage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, u.PromptTokens, 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, u.CompletionTokens, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, u.Total(), 10)
	return append(b, '}')
}

func appendAnthropicCut(b []byte, u providers.Usage) []byte {
	b = append(b, `{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":`...)
	b = strconv.AppendInt(b, u.CompletionTokens, 10)
	return append(b, "}}"...)
}

func (r *relay) appendResponsesCut(b []byte, u providers.Usage, now int64) []byte {
	b = append(b, `{"type":"response.incomplete","response":{"id":"`...)
	b = append(b, r.reqID...)
	b = append(b, `","object":"response","created_at":`...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, `,"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":`...)
	b = core.AppendJSONString(b, r.model)
	b = append(b, `,"output":[],"usage":{"input_tokens":`...)
	b = strconv.AppendInt(b, u.PromptTokens, 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, u.CompletionTokens, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, u.Total(), 10)
	return append(b, "}}}"...)
}

// cutUsage is u as charged: after a budget cut the output past the
// reservation is not billed, in tokens or in dollars.
func (r *relay) cutUsage(u providers.Usage) providers.Usage {
	if c := r.charge(u); c < u.Total() {
		u.CompletionTokens = max(0, c-u.PromptTokens)
	}
	return u
}

// wholeText reports a citation's or a server tool result's text, which a
// stream carries whole in one event and the model did not generate.
func wholeText(ref providers.TextRef) bool {
	return ref.Kind == providers.TextToolArgs && (openai.CitationPart(ref.Part) || anthropic.WholePart(ref.Part))
}
