package central

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

var (
	// ErrNotFound means the registry holds no plugin with that sha256.
	ErrNotFound = errors.New("central: plugin not found")
	// ErrNoAPIKey means the server was asked to start without an API key
	// and without explicitly turning authentication off.
	ErrNoAPIKey = errors.New("central: an API key is required")
	// ErrIncomplete means New was given no database, token service or registry.
	ErrIncomplete = errors.New("central: a database, a token service and a registry are required")
)

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in the OpenAI error shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	typ := "invalid_request_error"
	switch {
	case status == http.StatusUnauthorized:
		typ = "authentication_error"
	case status >= 500:
		typ = "server_error"
	}
	writeJSON(w, status, manifest.ErrorBody{Error: manifest.ErrorDetail{Message: msg, Type: typ, Code: code}})
}
