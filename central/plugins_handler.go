package central

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/rules"
)

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *Server) pluginRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/plugins", s.upload)
	mux.HandleFunc("GET /api/v1/plugins", s.list)
	mux.HandleFunc("GET /api/v1/plugins/{sha256}", s.fetch)
	mux.HandleFunc("DELETE /api/v1/plugins/{sha256}", s.remove)
	notAllowed := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, manifest.CodeMethod, fmt.Sprintf("method %s is not allowed here", r.Method))
	}
	mux.HandleFunc("/api/v1/plugins", notAllowed)
	mux.HandleFunc("/api/v1/plugins/{sha256}", notAllowed)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, manifest.CodeNotFound, "no such endpoint")
	})
	return mux
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	var up manifest.Upload
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, manifest.MaxUploadSize), &up); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, manifest.CodeTooLarge,
				fmt.Sprintf("request body exceeds %d bytes", manifest.MaxUploadSize))
			return
		}
		writeError(w, http.StatusBadRequest, manifest.CodeInvalid, err.Error())
		return
	}
	if len(up.Manifest) == 0 || len(up.WASM) == 0 {
		writeError(w, http.StatusBadRequest, manifest.CodeInvalid, "an upload needs both manifest and wasm")
		return
	}
	// The host's own module check: refuse what no proxy could load
	// (unknown imports, another ABI, wrong signatures) at upload, not on
	// every proxy later.
	if err := rules.CheckModule(r.Context(), up.WASM); err != nil {
		writeError(w, http.StatusBadRequest, manifest.CodeInvalid, "no proxy could load this module: "+err.Error())
		return
	}
	entry, created, err := s.o.Registry.Put(up.Manifest, up.WASM)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.pushPlugin(events.PluginUploaded, entry)
	} else {
		entry.Existing = true
	}
	writeJSON(w, status, entry)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	var since uint64
	if q := r.URL.Query(); q.Has("since") {
		n, err := strconv.ParseUint(q.Get("since"), 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, manifest.CodeInvalid, "since must be a revision number (0 or more)")
			return
		}
		since = n
	}
	listing, err := s.o.Registry.Changes(since)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listing)
}

func (s *Server) fetch(w http.ResponseWriter, r *http.Request) {
	sha, ok := pathSum(w, r)
	if !ok {
		return
	}
	b, err := s.o.Registry.Blob(sha)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/wasm")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	// Content-addressed: the bytes under this name never change.
	w.Header().Set("ETag", `"`+sha+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request) {
	sha, ok := pathSum(w, r)
	if !ok {
		return
	}
	entry, err := s.o.Registry.Delete(sha)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.pushPlugin(events.PluginDeleted, entry)
	writeJSON(w, http.StatusOK, entry)
}

func pathSum(w http.ResponseWriter, r *http.Request) (string, bool) {
	sha := r.PathValue("sha256")
	if !sha256RE.MatchString(sha) {
		writeError(w, http.StatusBadRequest, manifest.CodeInvalid, "a plugin is named by its sha256: 64 lowercase hexadecimal digits")
		return "", false
	}
	return sha, true
}

// fail maps registry errors to statuses and codes. Messages come from our
// own errors, which hold no secret.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	type mapping struct {
		target error
		status int
		code   string
	}
	for _, m := range []mapping{
		{ErrNotFound, http.StatusNotFound, manifest.CodeNotFound},
		{manifest.ErrUnsigned, http.StatusBadRequest, manifest.CodeUnsigned},
		{manifest.ErrBadSignature, http.StatusBadRequest, manifest.CodeSignature},
		{manifest.ErrUntrustedKey, http.StatusForbidden, manifest.CodeUntrusted},
		{manifest.ErrDigestMismatch, http.StatusBadRequest, manifest.CodeDigest},
		{manifest.ErrRollback, http.StatusConflict, manifest.CodeRollback},
		{manifest.ErrVersionReused, http.StatusConflict, manifest.CodeReused},
		{manifest.ErrUnsupportedABI, http.StatusBadRequest, manifest.CodeInvalid},
		{manifest.ErrMalformed, http.StatusBadRequest, manifest.CodeInvalid},
	} {
		if errors.Is(err, m.target) {
			writeError(w, m.status, m.code, err.Error())
			return
		}
	}
	s.log.Error("plugin request failed", "method", r.Method, "path_pattern", r.Pattern, "error", err)
	writeError(w, http.StatusInternalServerError, manifest.CodeInternal, "internal error; see the server log")
}
