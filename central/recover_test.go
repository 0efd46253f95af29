package central

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecoverPanics: a panic becomes a logged ERROR with the request id
// and a 500 in the OpenAI shape that shows no panic text.
func TestRecoverPanics(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	h := recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("invalid page type: 7 secret-detail")
	}), log)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/tokens", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	id := rec.Header().Get("X-Request-Id")
	require.NotEmpty(t, id)
	assert.Contains(t, rec.Body.String(), `"type":"server_error"`)
	assert.Contains(t, rec.Body.String(), id)
	assert.NotContains(t, rec.Body.String(), "invalid page")
	out := logs.String()
	assert.Contains(t, out, "[ERROR]")
	assert.Contains(t, out, "request_id="+id)
	assert.True(t, strings.Contains(out, "invalid page type"))
}

// TestReadyChecksStore: /ready reads the store and turns 503 when it
// cannot.
func TestReadyChecksStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	resp, err := http.Get(f.url + "/ready")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, f.db.Close())
	resp, err = http.Get(f.url + "/ready")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}
