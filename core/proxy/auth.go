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
	if auth := h.Peek("Authorization"); len(auth) > 0 {
		if len(auth) > len(bearerPrefix) && bytes.EqualFold(auth[:len(bearerPrefix)], bearerPrefix) {
			return bytes.TrimSpace(auth[len(bearerPrefix):])
		}
		if bytes.HasPrefix(auth, tknPrefix) {
			return bytes.TrimSpace(auth)
		}
	}
	if k := h.Peek("X-Api-Key"); len(k) > 0 {
		return bytes.TrimSpace(k)
	}
	return nil
}
