package tokenapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

// call sends one request to h with the test secret unless auth is set.
func call(t *testing.T, h http.Handler, method, target, body string, auth ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if len(auth) > 0 {
		if auth[0] != "" {
			req.Header.Set("Authorization", auth[0])
		}
	} else {
		req.Header.Set("Authorization", "Bearer "+testSecret)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, out
}

func decodeError(t *testing.T, body []byte) errorDetail {
	t.Helper()
	var eb errorBody
	require.NoError(t, json.Unmarshal(body, &eb), "body %s", body)
	return eb.Error
}

func TestHandlerAuth(t *testing.T) {
	t.Parallel()
	svc, _ := newTestService(t)
	h := NewHandler(svc, BearerAuth(testSecret), nil)
	tests := []struct {
		name   string
		header string
		target string
		want   int
	}{
		{name: "missing", header: "", target: "/api/v1/tokens", want: http.StatusUnauthorized},
		{name: "wrong secret", header: "Bearer nope", target: "/api/v1/tokens", want: http.StatusUnauthorized},
		{name: "prefix of secret", header: "Bearer " + testSecret[:4], target: "/api/v1/tokens", want: http.StatusUnauthorized},
		{name: "wrong scheme", header: "Basic " + testSecret, target: "/api/v1/tokens", want: http.StatusUnauthorized},
		{name: "no scheme", header: testSecret, target: "/api/v1/tokens", want: http.StatusUnauthorized},
		{name: "unknown route still needs auth", header: "", target: "/nope", want: http.StatusUnauthorized},
		{name: "right", header: "Bearer " + testSecret, target: "/api/v1/tokens", want: http.StatusOK},
		{name: "scheme case-insensitive", header: "bearer " + testSecret, target: "/api/v1/tokens", want: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := call(t, h, http.MethodGet, tc.target, "", tc.header)
			assert.Equal(t, tc.want, resp.StatusCode, "body %s", body)
			if tc.want == http.StatusUnauthorized {
				e := decodeError(t, body)
				assert.Equal(t, CodeUnauthorized, e.Code)
				assert.Equal(t, "authentication_error", e.Type)
				assert.NotContains(t, string(body), testSecret)
			}
		})
	}
}

func TestBearerAuthEmptySecret(t *testing.T) {
	t.Parallel()
	auth := BearerAuth("")
	for _, header := range []string{"", "Bearer ", "Bearer"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", header)
		assert.False(t, auth(req), "header %q", header)
	}
	// A nil authenticator refuses everything too.
	svc, _ := newTestService(t)
	resp, _ := call(t, NewHandler(svc, nil, nil), http.MethodGet, "/api/v1/tokens", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestHandlerCreateAndRoutes(t *testing.T) {
	t.Parallel()
	svc, _ := newTestService(t)
	h := NewHandler(svc, BearerAuth(testSecret), nil)

	resp, body := call(t, h, http.MethodPost, "/api/v1/tokens", `{"policy":{"model":"gpt-4o"}}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "body %s", body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var created Created
	require.NoError(t, json.Unmarshal(body, &created))
	require.True(t, store.ValidTokenFormat(created.Token))
	hash := created.Record.Hash

	resp, body = call(t, h, http.MethodGet, "/api/v1/tokens/"+hash[:6], "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, string(body), created.Token)
	var rec store.Record
	require.NoError(t, json.Unmarshal(body, &rec))
	assert.Equal(t, hash, rec.Hash)

	resp, body = call(t, h, http.MethodPatch, "/api/v1/tokens/"+hash[:6], `{"policy":{"max_tokens":5}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body %s", body)
	require.NoError(t, json.Unmarshal(body, &rec))
	assert.JSONEq(t, `{"model":"gpt-4o","max_tokens":5}`, string(rec.Policy))

	resp, body = call(t, h, http.MethodGet, "/api/v1/tokens", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list listResponse
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Tokens, 1)
	assert.NotContains(t, string(body), created.Token)

	resp, body = call(t, h, http.MethodGet, "/api/v1/tokens?since=0", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ch ChangesResponse
	require.NoError(t, json.Unmarshal(body, &ch))
	assert.Equal(t, uint64(2), ch.Revision)
	require.Len(t, ch.Changes, 1)

	resp, _ = call(t, h, http.MethodDelete, "/api/v1/tokens/"+hash, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body = call(t, h, http.MethodGet, "/api/v1/tokens?since=2", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.Unmarshal(body, &ch))
	require.Len(t, ch.Changes, 1)
	assert.True(t, ch.Changes[0].Deleted)

	resp, body = call(t, h, http.MethodGet, "/api/v1/tokens?since=3", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `"changes":[]`)
}

func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	svc, db := newTestService(t)
	seedHashes(t, db, "abcd1", "abcd2")
	h := NewHandler(svc, BearerAuth(testSecret), nil)
	token, err := store.NewToken()
	require.NoError(t, err)

	tests := []struct {
		name        string
		method      string
		target      string
		body        string
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{name: "bad json", method: http.MethodPost, target: "/api/v1/tokens", body: `{"policy":`, wantStatus: 400, wantCode: CodeInvalidRequest},
		{name: "empty body", method: http.MethodPost, target: "/api/v1/tokens", body: ``, wantStatus: 400, wantCode: CodeInvalidRequest, wantMessage: "empty"},
		{name: "unknown field", method: http.MethodPost, target: "/api/v1/tokens", body: `{"policy":{},"owner":"x"}`, wantStatus: 400, wantCode: CodeInvalidRequest, wantMessage: `unknown field "owner"`},
		{name: "trailing data", method: http.MethodPost, target: "/api/v1/tokens", body: `{"policy":{}} {}`, wantStatus: 400, wantCode: CodeInvalidRequest, wantMessage: "after the JSON object"},
		{name: "validation", method: http.MethodPost, target: "/api/v1/tokens", body: `{"policy":{"forbidden":1}}`, wantStatus: 400, wantCode: CodeInvalidRequest, wantMessage: `unknown field "forbidden"`},
		{name: "patch validation", method: http.MethodPatch, target: "/api/v1/tokens/abcd1", body: `{"policy":{"forbidden":1}}`, wantStatus: 400, wantCode: CodeInvalidRequest, wantMessage: `unknown field "forbidden"`},
		{name: "bad since", method: http.MethodGet, target: "/api/v1/tokens?since=-1", wantStatus: 400, wantCode: CodeInvalidRequest},
		{name: "empty since", method: http.MethodGet, target: "/api/v1/tokens?since=", wantStatus: 400, wantCode: CodeInvalidRequest},
		{name: "short prefix", method: http.MethodGet, target: "/api/v1/tokens/abc", wantStatus: 400, wantCode: CodeInvalidRequest},
		{name: "token as prefix", method: http.MethodGet, target: "/api/v1/tokens/" + token, wantStatus: 400, wantCode: CodeInvalidRequest},
		{name: "not found", method: http.MethodGet, target: "/api/v1/tokens/ffff", wantStatus: 404, wantCode: CodeNotFound, wantMessage: "ffff"},
		{name: "delete not found", method: http.MethodDelete, target: "/api/v1/tokens/ffff", wantStatus: 404, wantCode: CodeNotFound},
		{name: "unknown route", method: http.MethodGet, target: "/api/v2/else", wantStatus: 404, wantCode: CodeNotFound},
		{name: "wrong method", method: http.MethodPut, target: "/api/v1/tokens/abcd1", wantStatus: 405, wantCode: CodeMethod},
		{name: "wrong method on collection", method: http.MethodDelete, target: "/api/v1/tokens", wantStatus: 405, wantCode: CodeMethod},
		{name: "ambiguous", method: http.MethodGet, target: "/api/v1/tokens/abcd", wantStatus: 409, wantCode: CodeAmbiguous, wantMessage: "abcd10000000"},
		{name: "resync", method: http.MethodGet, target: "/api/v1/tokens?since=100", wantStatus: 410, wantCode: CodeResync},
		{name: "too large", method: http.MethodPost, target: "/api/v1/tokens", body: `{"policy":{"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}}`, wantStatus: 413, wantCode: CodeTooLarge},
		{name: "too large after object", method: http.MethodPost, target: "/api/v1/tokens", body: `{"policy":{}}` + strings.Repeat(" ", MaxBodyBytes), wantStatus: 413, wantCode: CodeTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := call(t, h, tc.method, tc.target, tc.body)
			require.Equal(t, tc.wantStatus, resp.StatusCode, "body %.300s", body)
			e := decodeError(t, body)
			assert.Equal(t, tc.wantCode, e.Code)
			assert.NotEmpty(t, e.Type)
			assert.NotEmpty(t, e.Message)
			assert.Contains(t, e.Message, tc.wantMessage)
			assert.NotContains(t, string(body), token)
			if tc.wantCode == CodeAmbiguous {
				assert.Len(t, e.Matches, 2)
			}
		})
	}
}

// failingManager returns errInternal from every call.
type failingManager struct{ Manager }

var errInternal = errors.New("disk on fire at /secret/path")

func (failingManager) List(context.Context) ([]store.Record, error) { return nil, errInternal }

// errManager returns err from Get, for the status mapping of errors that
// do not come from Service.
type errManager struct {
	Manager
	err error
}

func (m errManager) Get(context.Context, string) (store.Record, error) { return store.Record{}, m.err }

func TestHandlerMapsBareErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "store invalid prefix", err: store.ErrInvalidPrefix, want: http.StatusBadRequest},
		{name: "store invalid policy", err: store.ErrInvalidPolicy, want: http.StatusBadRequest},
		{name: "wrapped not found", err: fmt.Errorf("resolving: %w", store.ErrNotFound), want: http.StatusNotFound},
		{name: "ambiguous", err: &store.AmbiguousError{Prefix: "abcd", Matches: []string{"abcd1", "abcd2"}}, want: http.StatusConflict},
		{name: "canceled", err: context.Canceled, want: http.StatusServiceUnavailable},
		{name: "decrypt failure is internal", err: store.ErrDecrypt, want: http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := NewHandler(errManager{err: tc.err}, BearerAuth(testSecret), nil)
			resp, body := call(t, h, http.MethodGet, "/api/v1/tokens/abcd", "")
			assert.Equal(t, tc.want, resp.StatusCode, "body %s", body)
		})
	}
}

func TestHandlerInternalErrorHidden(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := newBufferLogger(&logs)
	h := NewHandler(failingManager{}, BearerAuth(testSecret), logger)
	resp, body := call(t, h, http.MethodGet, "/api/v1/tokens", "")
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	e := decodeError(t, body)
	assert.Equal(t, CodeInternal, e.Code)
	assert.Equal(t, "server_error", e.Type)
	assert.NotContains(t, string(body), "disk on fire")
	assert.Contains(t, logs.String(), "disk on fire", "the cause goes to the log instead")
}

// FuzzHandlerBody sends arbitrary bodies: the API must answer 2xx or 4xx,
// never 5xx, and always in JSON.
func FuzzHandlerBody(f *testing.F) {
	svc, db := newTestService(f)
	hashes := seedHashes(f, db, "abcd1")
	h := NewHandler(svc, BearerAuth(testSecret), nil)
	f.Add(`{"policy":{"a":1}}`)
	f.Add(`{"policy":{"a":null},"replace":true}`)
	f.Add(`{"expires_at":"2000-01-01T00:00:00Z"}`)
	f.Add(`{"clear_expiry":true}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		for _, target := range []struct{ method, path string }{
			{http.MethodPost, "/api/v1/tokens"},
			{http.MethodPatch, "/api/v1/tokens/" + hashes[0][:8]},
		} {
			req := httptest.NewRequest(target.method, target.path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testSecret)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q: status %d: %s", target.method, target.path, body, rec.Code, rec.Body)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("non-JSON answer %q", rec.Body)
			}
		}
	})
}
