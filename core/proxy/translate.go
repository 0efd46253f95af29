package proxy

import (
	"errors"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
)

// translation holds the hub forms an exchange reuses when the client's
// format is not the provider's.
type translation struct {
	req  hub.Request
	resp hub.Response
	out  []byte
}

// wire is the client's hub format on this endpoint (0 for endpoints the
// hub does not translate: completions, embeddings).
func (e endpoint) wire() hub.Wire {
	switch e {
	case epChat:
		return hub.Chat
	case epResponses:
		return hub.Responses
	case epMessages:
		return hub.Messages
	}
	return 0
}

// translated reports whether requests on ep to a provider of format f go
// through the hub.
func translated(ep endpoint, f providers.Format) bool {
	w := ep.wire()
	return w != 0 && !hub.Native(w, f)
}

func (x *exchange) hub() *translation {
	if x.tr == nil {
		x.tr = &translation{}
	}
	return x.tr
}

// translateRequest writes the upstream body of a translated request: the
// client's body decoded into the hub form and encoded in the provider's
// format, with the policy's messages, the fallback model and the caps.
// Anthropic requires max_tokens: without a client cap the model's largest
// output is sent (hub.MaxOutputTokens), so the answer is not cut shorter
// than it would be natively; the budget clamp lowers it when it must.
func (x *exchange) translateRequest(dst []byte, a attempt, model string) ([]byte, error) {
	t := x.hub()
	o := hub.Options{Model: model, Prepend: x.tok.prompts, MaxTokensLimit: x.capLimit, IncludeUsage: x.stream}
	if a.prov.format == providers.Anthropic {
		o.DefaultMaxTokens = hub.MaxOutputTokens(a.model)
	} else if a.prov.cfg.Name != "openai" {
		o.MaxTokensField = "max_tokens" // compatible hosts know the older field
	}
	out, err := hub.TranslateRequest(dst, &t.req, x.ep.wire(), hub.ProviderWire(a.prov.format), x.body, o)
	if err != nil {
		return out, translateError(err)
	}
	return out, nil
}

// translateError turns a request the provider's format cannot express
// into a 400 naming the client's field.
func translateError(err error) error {
	var fe *hub.FieldError
	if errors.As(err, &fe) {
		msg := "The field " + fe.Field + " cannot be translated to the provider's format"
		if errors.Is(err, hub.ErrUnsupported) {
			msg = "The field " + fe.Field + " cannot be expressed in the format of the provider serving this model"
		} else if errors.Is(err, hub.ErrToolArguments) {
			msg = "The tool call arguments in " + fe.Field + " are not a JSON object"
		}
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "unsupported_translation", Param: fe.Field,
			Message: msg + ".", Err: err}
	}
	if errors.Is(err, hub.ErrToolArguments) {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "unsupported_translation", Param: "messages",
			Message: "Tool call arguments must be a JSON object to reach this model.", Err: err}
	}
	return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_request",
		Message: "The request could not be translated to the provider's format.", Err: err}
}

// translateResponse rewrites a provider's complete answer in the client's
// format.
func (x *exchange) translateResponse(a attempt, body []byte, created int64) ([]byte, error) {
	t := x.hub()
	out, err := hub.TranslateResponse(t.out[:0], &t.resp, hub.ProviderWire(a.prov.format), x.ep.wire(), body, a.model, created)
	if err != nil {
		return nil, &core.Error{Status: 502, Type: core.TypeUpstream, Code: "translation_failed",
			Message: "The provider's answer could not be translated to the client's format.", Err: err}
	}
	t.out = out
	return out, nil
}
