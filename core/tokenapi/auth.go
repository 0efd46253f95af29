package tokenapi

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Authenticator decides whether a request may use the API.
type Authenticator func(r *http.Request) bool

// BearerAuth accepts "Authorization: Bearer <secret>", comparing in
// constant time. An empty secret accepts nothing, so a missing API key
// never opens the API.
func BearerAuth(secret string) Authenticator {
	want := []byte(secret)
	return func(r *http.Request) bool {
		if len(want) == 0 {
			return false
		}
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) == 1
	}
}
