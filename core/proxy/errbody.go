package proxy

import (
	"encoding/json"
	"strconv"

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
	if x.ep == epMessages {
		body = anthropicShaped(status, body)
	}
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
	return x.errorJSON(e)
}

// errorJSON is e in the error shape of the client's format.
func (x *exchange) errorJSON(e *core.Error) []byte {
	if x.ep == epMessages {
		return appendAnthropicError(nil, anthropicErrorType(e), e.Message, e.Code)
	}
	return e.AppendJSON(nil)
}

// anthropicShaped returns a provider's error body in Anthropic's shape for
// a client on an Anthropic path: an Anthropic body as it is, an OpenAI-shaped
// one ({"error":{"message","type","code"}}, from an OpenAI-format provider)
// rewritten with its message and code, anything else replaced by a generic
// error for the status. Anthropic's SDKs read error.type to pick their
// error class, so a body without it would surface as an untyped failure.
func anthropicShaped(status int, body []byte) []byte {
	var in struct {
		Type  string `json:"type"`
		Error *struct {
			Type    string          `json:"type"`
			Message string          `json:"message"`
			Code    json.RawMessage `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &in); err == nil && in.Error != nil {
		if in.Type == "error" && in.Error.Type != "" {
			return body
		}
		var code string
		_ = json.Unmarshal(in.Error.Code, &code) // OpenAI's code may be null or a number
		msg := in.Error.Message
		if msg == "" {
			msg = "The provider refused the request (status " + strconv.Itoa(status) + ")."
		}
		return appendAnthropicError(nil, anthropicErrorType(&core.Error{Status: status}), msg, code)
	}
	return appendAnthropicError(nil, anthropicErrorType(&core.Error{Status: status}),
		"The provider answered with status "+strconv.Itoa(status)+".", "upstream_error")
}
