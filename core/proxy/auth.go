package proxy

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

var (
	bearerPrefix = []byte("bearer ")
	tknPrefix    = []byte("tkn_")
)

// clientToken finds the client's token: Authorization: Bearer, x-api-key
// (Anthropic SDKs), or a raw Authorization header holding the token itself.
// The returned slice aliases the request headers: use it before the handler
// returns and never keep it.
func clientToken(h *fasthttp.RequestHeader) []byte {
	var bearer []byte
	if auth := h.Peek("Authorization"); len(auth) > 0 {
		if len(auth) > len(bearerPrefix) && bytes.EqualFold(auth[:len(bearerPrefix)], bearerPrefix) {
			bearer = bytes.TrimSpace(auth[len(bearerPrefix):])
		} else if bytes.HasPrefix(auth, tknPrefix) {
			return bytes.TrimSpace(auth)
		}
	}
	// A client may carry another service's key in Authorization and ours in
	// x-api-key (some Anthropic tooling does): a tkn_ token wins.
	if bytes.HasPrefix(bearer, tknPrefix) {
		return bearer
	}
	if k := bytes.TrimSpace(h.Peek("X-Api-Key")); len(k) > 0 {
		return k
	}
	return bearer
}
