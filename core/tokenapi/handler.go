package tokenapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// MaxBodyBytes bounds request bodies; larger ones get 413.
const MaxBodyBytes = 1 << 20

// Error codes in the "code" field of error responses. Client maps them back.
const (
	CodeInvalidRequest = "invalid_request"
	CodeUnauthorized   = "unauthorized"
	CodeNotFound       = "not_found"
	CodeAmbiguous      = "ambiguous"
	CodeResync         = "resync_required"
	CodeTooLarge       = "request_too_large"
	CodeMethod         = "method_not_allowed"
	CodeInternal       = "internal_error"
)

// errorBody is the OpenAI error shape, plus the matches of an ambiguous
// prefix so clients need not parse the message.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string   `json:"message"`
	Type    string   `json:"type"`
	Code    string   `json:"code"`
	Matches []string `json:"matches,omitempty"`
}

// listResponse wraps the list so the shape can grow.
type listResponse struct {
	Tokens []store.Record `json:"tokens"`
}

type handler struct {
	m      Manager
	logger hclog.Logger
}

// NewHandler serves m under /api/v1/tokens:
//
//	POST   /api/v1/tokens           create → 201 Created
//	GET    /api/v1/tokens           list → {"tokens": [...]}
//	GET    /api/v1/tokens?since=N   change feed → ChangesResponse
//	GET    /api/v1/tokens/{prefix}  one record
//	PATCH  /api/v1/tokens/{prefix}  UpdateRequest → record
//	DELETE /api/v1/tokens/{prefix}  → the deleted record
//
// Every request must pass auth, checked before routing so unauthenticated
// callers learn nothing about the routes.
func NewHandler(m Manager, auth Authenticator, logger hclog.Logger) http.Handler {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	h := &handler{m: m, logger: logger.Named("tokenapi")}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/tokens", h.create)
	mux.HandleFunc("GET /api/v1/tokens", h.list)
	mux.HandleFunc("GET /api/v1/tokens/{prefix}", h.get)
	mux.HandleFunc("PATCH /api/v1/tokens/{prefix}", h.update)
	mux.HandleFunc("DELETE /api/v1/tokens/{prefix}", h.delete)
	// Method-less patterns lose to the ones above, so they only catch wrong
	// methods and unknown paths, answering in JSON like everything else.
	mux.HandleFunc("/api/v1/tokens", h.methodNotAllowed)
	mux.HandleFunc("/api/v1/tokens/{prefix}", h.methodNotAllowed)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint", nil)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth == nil || !auth(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tokenomics"`)
			writeError(w, http.StatusUnauthorized, CodeUnauthorized, "missing or wrong API key", nil)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	if !h.decode(w, r, &req) {
		return
	}
	created, err := h.m.Create(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	if s := r.URL.Query().Get("since"); s != "" || r.URL.Query().Has("since") {
		since, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidRequest, "since must be a revision number (0 or more)", nil)
			return
		}
		resp, err := h.m.Changes(r.Context(), since)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if resp.Changes == nil {
			resp.Changes = []store.Change{}
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	recs, err := h.m.List(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if recs == nil {
		recs = []store.Record{}
	}
	writeJSON(w, http.StatusOK, listResponse{Tokens: recs})
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	rec, err := h.m.Get(r.Context(), r.PathValue("prefix"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	var req UpdateRequest
	if !h.decode(w, r, &req) {
		return
	}
	rec, err := h.m.Update(r.Context(), r.PathValue("prefix"), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	rec, err := h.m.Delete(r.Context(), r.PathValue("prefix"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusMethodNotAllowed, CodeMethod, fmt.Sprintf("method %s is not allowed here", r.Method), nil)
}

// decode reads one JSON object strictly (unknown fields refused) from a body
// of at most MaxBodyBytes, answering the error itself when it fails.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	err := decodeBody(http.MaxBytesReader(w, r.Body, MaxBodyBytes), v)
	if err == nil {
		return true
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes), nil)
		return false
	}
	writeError(w, http.StatusBadRequest, CodeInvalidRequest, err.Error(), nil)
	return false
}

func decodeBody(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the request body is empty")
		}
		return fmt.Errorf("decoding request body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return err
		}
		return errors.New("decoding request body: unexpected data after the JSON object")
	}
	return nil
}

// fail maps err to a status and code. Messages come from our own error
// values, which never hold tokens or keys; internal errors are logged and
// answered with a fixed text.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if amb, ok := errors.AsType[*store.AmbiguousError](err); ok {
		writeError(w, http.StatusConflict, CodeAmbiguous, amb.Error(), amb.Matches)
		return
	}
	switch {
	case errors.Is(err, ErrInvalidRequest), errors.Is(err, store.ErrInvalidPrefix), errors.Is(err, store.ErrInvalidPolicy):
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, err.Error(), nil)
	case errors.Is(err, store.ErrNotFound):
		// Only validated hex prefixes get this far, so echoing one is safe.
		msg := "no token found"
		if p := r.PathValue("prefix"); p != "" {
			msg = fmt.Sprintf("no token hash starts with %q", p)
		}
		writeError(w, http.StatusNotFound, CodeNotFound, msg, nil)
	case errors.Is(err, store.ErrResyncRequired):
		writeError(w, http.StatusGone, CodeResync, store.ErrResyncRequired.Error(), nil)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client went away; nobody reads the answer.
		writeError(w, http.StatusServiceUnavailable, CodeInternal, "request canceled", nil)
	default:
		h.logger.Error("token request failed", "method", r.Method, "path_pattern", r.Pattern, "error", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "internal error; see the server log", nil)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // create responses carry a token
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string, matches []string) {
	writeJSON(w, status, errorBody{Error: errorDetail{
		Message: msg,
		Type:    errorType(status),
		Code:    code,
		Matches: matches,
	}})
}

func errorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}
