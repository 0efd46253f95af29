package manifest

import (
	"encoding/json"
	"time"
)

// Registry API paths, served by the central server.
const (
	// PluginsPath lists (GET, ?since=N) and uploads (POST) plugins.
	PluginsPath = "/api/v1/plugins"
	// MaxUploadSize bounds an Upload request body: the binary in base64
	// plus the manifest.
	MaxUploadSize = MaxPluginSize/3*4 + 2*MaxEnvelopeSize
)

// Error codes of registry error responses (the OpenAI error shape,
// {"error": {"message", "type", "code"}}).
const (
	CodeInvalid   = "invalid_request"
	CodeUnsigned  = "unsigned"
	CodeSignature = "bad_signature"
	CodeUntrusted = "untrusted_key"
	CodeDigest    = "digest_mismatch"
	CodeRollback  = "version_rollback"
	CodeReused    = "version_reused"
	CodeNotFound  = "not_found"
	CodeAuth      = "unauthorized"
	CodeTooLarge  = "request_too_large"
	CodeMethod    = "method_not_allowed"
	CodeInternal  = "internal_error"
)

// Entry is one plugin binary held by the registry. Name, Version, SHA256
// and Size repeat the manifest for display and indexing; they are not
// signed, so a consumer acts only on what Verify returns from Manifest.
type Entry struct {
	Name       string    `json:"name"`
	Version    string    `json:"version"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	UploadedAt time.Time `json:"uploaded_at"`
	// Revision is the registry revision of the upload.
	Revision uint64 `json:"revision"`
	// Signers are the key ids whose signatures verify with their own keys.
	Signers []string `json:"signers,omitempty"`
	// Manifest is the envelope file as uploaded.
	Manifest json.RawMessage `json:"manifest"`
	// Existing is set on an upload answer when the registry already held
	// this binary with this manifest: nothing changed.
	Existing bool `json:"existing,omitempty"`
}

// Listing is the answer of GET /api/v1/plugins[?since=N]. The registry
// keeps its own revision, bumped by every upload and delete. With since
// equal to Revision, Unchanged is true and Plugins is empty; otherwise
// Plugins is the whole current set (it is small), so a consumer needs no
// tombstones: what is not listed was deleted.
type Listing struct {
	Revision  uint64  `json:"revision"`
	Unchanged bool    `json:"unchanged,omitempty"`
	Plugins   []Entry `json:"plugins"`
}

// Upload is the body of POST /api/v1/plugins: the envelope file and the
// binary (base64 in JSON).
type Upload struct {
	Manifest json.RawMessage `json:"manifest"`
	WASM     []byte          `json:"wasm"`
}

// ErrorBody is the registry's error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    string `json:"code"`
}
