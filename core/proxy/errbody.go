package proxy

import (
	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// checkErrorBody runs the output rules over a provider's error answer
// before the client sees it: providers quote requests back in error
// messages ("invalid value '...'"), so an error body is output like any
// other. Every string of the JSON is checked; masks are spliced in place.
// A body the rules block, or one that cannot be checked, is replaced by a
// generic error with the same status.
func (x *exchange) checkErrorBody(status int, body []byte) []byte {
	rs := x.tok.rules
	if rs == nil || !rs.output {
		return body
	}
	var err error
	x.refs, err = providers.StringLeaves(x.refs[:0], body, "assistant", providers.TextCompletion)
	if err == nil {
		err = x.decodeTexts(body)
	}
	if err == nil {
		err = x.s.checkRules(x, rules.Output, "error")
	}
	if err != nil || x.verdict.Action == rules.Block {
		return x.withheldError(status)
	}
	if x.verdict.Action == rules.Mask {
		masked, err := x.applyMasks(x.outMasked[:0], body)
		if err != nil {
			return x.withheldError(status)
		}
		x.outMasked = masked
		return masked
	}
	return body
}

// withheldError is the generic answer that replaces a provider's error
// body, in the client's format.
func (x *exchange) withheldError(status int) []byte {
	e := core.Errorf(status, core.TypeUpstream, "upstream_error",
		"The provider refused the request; its message was withheld by a content rule (request id %s).", x.reqID)
	if x.ep == epMessages {
		return appendAnthropicError(nil, "api_error", e.Message, e.Code)
	}
	return e.AppendJSON(nil)
}
