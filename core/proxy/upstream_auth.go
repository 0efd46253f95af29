package proxy

import (
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// upstreamAuthFailed reports whether a provider's status means it refused
// the proxy's own credentials. The client authenticated to the proxy with
// its tkn_ token; a 401/403 from the provider is about the key the proxy
// sent, which the client can neither see nor fix.
func upstreamAuthFailed(status int) bool {
	return status == fasthttp.StatusUnauthorized || status == fasthttp.StatusForbidden
}

// upstreamAuthError answers a provider's rejection of the configured key
// with a 502 naming the provider and the variable that holds the key, so
// it cannot be mistaken for the proxy's 401 on a bad client token. The
// provider's body is dropped: some quote part of the key back.
func (x *exchange) upstreamAuthError(ctx *fasthttp.RequestCtx, a attempt, status int) {
	e := upstreamAuthErr(a.prov.name, a.prov.cfg.AuthScheme, x.keyEnv(a), status)
	x.s.log.Warn("provider rejected the configured API key", "request_id", x.reqID, "provider", a.prov.name,
		"key_env", x.keyEnv(a), "upstream_status", status)
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType("application/json")
	if x.ep == epMessages {
		ctx.Response.SetBody(appendAnthropicError(nil, anthropicErrorType(e), e.Message, e.Code))
	} else {
		ctx.Response.SetBody(e.AppendJSON(nil))
	}
	x.s.finish(x, a, e.Status, providers.Usage{})
}

// upstreamAuthErr builds the client's 502; it names the key's variable,
// never the key.
func upstreamAuthErr(prov, scheme, keyEnv string, status int) *core.Error {
	msg := "Provider " + prov + " rejected the configured API key (upstream status " + strconv.Itoa(status) +
		"); check api_key_env " + keyEnv + " in the proxy's provider configuration."
	if scheme == "none" || keyEnv == "" {
		msg = "Provider " + prov + " refused the proxy's request as unauthenticated (upstream status " + strconv.Itoa(status) +
			"); check its api_key_env and auth_scheme in the proxy's provider configuration."
	}
	return &core.Error{Status: fasthttp.StatusBadGateway, Type: core.TypeUpstream, Code: "upstream_auth_failed", Message: msg}
}

// keyEnv is the variable the attempt's key came from: the policy's choice,
// else the provider's api_key_env (as resolve picks it).
func (x *exchange) keyEnv(a attempt) string {
	if a.res.KeyEnv != "" {
		return a.res.KeyEnv
	}
	return a.prov.cfg.APIKeyEnv
}
