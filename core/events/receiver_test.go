package events

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReceiverHandler(t *testing.T) {
	t.Parallel()
	both := Credentials{Secret: testSecret, SigningKey: testKey}
	body := eventBody(t, "e1")
	good := signed(both, "e1", testNow, body)
	noType := []byte(`{"id":"e2"}`)

	tests := []struct {
		name       string
		method     string
		header     hdr
		body       []byte
		want       int
		wantEvents int
		wantReject error
	}{
		{name: "accepted", header: good, body: body, want: http.StatusAccepted, wantEvents: 1},
		{name: "wrong method", method: http.MethodGet, header: good, body: body, want: http.StatusMethodNotAllowed},
		{name: "bad signature", header: good.with(HeaderSignature, Sign("x", testNow.Unix(), body)), body: body, want: http.StatusUnauthorized, wantReject: ErrBadSignature},
		{name: "bad secret", header: good.with(HeaderSecret, "x"), body: body, want: http.StatusUnauthorized, wantReject: ErrBadSecret},
		{name: "missing header", header: good.with(HeaderTimestamp, ""), body: body, want: http.StatusUnauthorized, wantReject: ErrMissingHeader},
		{name: "stale", header: signed(both, "e1", testNow.Add(-time.Hour), body), body: body, want: http.StatusUnauthorized, wantReject: ErrStale},
		{name: "malformed timestamp", header: good.with(HeaderTimestamp, "soon"), body: body, want: http.StatusBadRequest, wantReject: ErrMalformed},
		{name: "signed non-json", header: signed(both, "e1", testNow, []byte("hi")), body: []byte("hi"), want: http.StatusBadRequest, wantReject: ErrMalformed},
		{name: "signed event without type", header: signed(both, "e2", testNow, noType), body: noType, want: http.StatusBadRequest},
		{name: "too large", header: good, body: bytes.Repeat([]byte("a"), MaxBodySize+1), want: http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(VerifierConfig{Secret: testSecret, SigningKey: testKey})
			require.NoError(t, err)
			var got []Event
			var rejected []error
			h := NewReceiverHandler(v, func(ev Event) { got = append(got, ev) },
				withNow(func() time.Time { return testNow }),
				WithRejectHook(func(_ *http.Request, status int, err error) {
					rejected = append(rejected, err)
				}))
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/v1/webhook", bytes.NewReader(tc.body))
			for k, val := range tc.header {
				req.Header.Set(k, val)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.want, rec.Code)
			assert.Len(t, got, tc.wantEvents)
			if tc.want == http.StatusAccepted {
				assert.Empty(t, rejected)
				assert.Equal(t, TokenCreated, got[0].Type)
				assert.Equal(t, uint64(3), got[0].Revision)
			} else {
				require.Len(t, rejected, 1)
				if tc.wantReject != nil {
					assert.ErrorIs(t, rejected[0], tc.wantReject)
				}
				assert.NotContains(t, rec.Body.String(), testSecret)
			}
		})
	}
}

func TestReceiverHandlerReplay(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(VerifierConfig{SigningKey: testKey})
	require.NoError(t, err)
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(NewReceiverHandler(v, func(Event) { mu.Lock(); n++; mu.Unlock() }))
	t.Cleanup(srv.Close)

	body := eventBody(t, "r1")
	h := signed(Credentials{SigningKey: testKey}, "r1", time.Now(), body)
	post := func() int {
		req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		require.NoError(t, err)
		for k, val := range h {
			req.Header.Set(k, val)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusAccepted, post())
	assert.Equal(t, http.StatusConflict, post())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, n)
}

func TestStatusFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{err: nil, want: http.StatusAccepted},
		{err: ErrReplay, want: http.StatusConflict},
		{err: ErrMalformed, want: http.StatusBadRequest},
		{err: ErrBadSignature, want: http.StatusUnauthorized},
		{err: ErrBadSecret, want: http.StatusUnauthorized},
		{err: ErrMissingHeader, want: http.StatusUnauthorized},
		{err: ErrStale, want: http.StatusUnauthorized},
		{err: fmt.Errorf("wrapped: %w", ErrReplay), want: http.StatusConflict},
		{err: errors.New("other"), want: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		name := "nil"
		if tc.err != nil {
			name = strings.ReplaceAll(tc.err.Error(), " ", "_")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, StatusFor(tc.err))
		})
	}
}
