package proxy

import (
	"errors"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// translation holds the hub forms an exchange reuses when the client's
// format is not the provider's.
type translation struct {
	req     hub.Request
	resp    hub.Response
	out     []byte
	texts   []providers.TextRef // what the hub sends
	checked []providers.TextRef // what the input rules read
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
	if err := hub.Decode(&t.req, x.ep.wire(), x.body); err != nil {
		return dst, translateError(err)
	}
	if err := x.checkCovered(t); err != nil {
		return dst, err
	}
	t.req.Prepend(o.Prepend)
	out, err := hub.Encode(dst, &t.req, hub.ProviderWire(a.prov.format), o)
	if err != nil {
		return out, translateError(err)
	}
	return out, nil
}

// checkCovered refuses a translated request that would carry a text the
// input rules did not read (fail closed): the rules read the client's
// body with the format's own walker, the hub with its decoder, and both
// must agree on every text the model gets. Only tokens with input rules
// pay for the second walk.
func (x *exchange) checkCovered(t *translation) error {
	rs := x.tok.rules
	if rs == nil || !rs.input {
		return nil
	}
	var err error
	if x.ep == epMessages {
		t.checked, err = anthropic.RequestTexts(t.checked[:0], x.body)
	} else {
		t.checked, err = openai.RequestTexts(t.checked[:0], x.body, x.ep.openai())
	}
	if err != nil {
		return parseError(err)
	}
	t.texts = t.req.Texts(t.texts[:0])
	if miss, ok := hub.Covered(t.texts, t.checked); !ok {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "unsupported_translation",
			Message: "Part of this request (" + miss.Kind + " text) cannot be checked by the content rules after translation to the provider's format.",
			Err:     errors.New("proxy: translated text outside the rules' view")}
	}
	return nil
}

// translateError turns a request the provider's format cannot express
// into a 400 naming the client's field.
func translateError(err error) error {
	var fe *hub.FieldError
	if errors.As(err, &fe) {
		msg := "The field " + fe.Field + " cannot be translated to the provider's format"
		if errors.Is(err, hub.ErrServerState) {
			msg = "The field " + fe.Field + " refers to state OpenAI keeps server-side, which the provider serving this model cannot read; " +
				"send the items themselves (the Vercel AI SDK does with providerOptions.openai.store set to false)"
		} else if errors.Is(err, hub.ErrUnsupported) {
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
