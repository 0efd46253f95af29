package central

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
)

// recoverPanics keeps a panic in a handler (a damaged database page, a
// bug) from escaping unlogged: it is logged at ERROR with the request id
// and the stack, and the client gets a 500 in the OpenAI shape naming the
// same id, never the panic.
func recoverPanics(next http.Handler, log hclog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		defer func() {
			v := recover()
			if v == nil || v == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
				if v != nil {
					panic(v)
				}
				return
			}
			log.Error("panic in handler", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, http.StatusInternalServerError, "internal_error", "internal error (request id "+id+")")
		}()
		next.ServeHTTP(w, r)
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
