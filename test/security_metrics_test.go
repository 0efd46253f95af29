package test

import (
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := centralClient.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSecurityMetricsOffPublicPort: with server.metrics_addr set, the
// public port answers /metrics with 404 and /ready without details, while
// the metrics listener serves both; /health stays public and minimal.
// Without it, /metrics stays where it was (compatibility).
func TestSecurityMetricsOffPublicPort(t *testing.T) {
	t.Parallel()
	maddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	px := pxStart(t, "", "TOKENOMICS_SERVER_METRICS_ADDR="+maddr)
	e := pxStart(t, "")

	code, body := httpGet(t, px.url+"/metrics")
	assert.Equal(t, 404, code, body)
	code, body = httpGet(t, px.url+"/ready")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"ready"}`, body)
	code, body = httpGet(t, px.url+"/health")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"ok"}`, body)

	code, body = httpGet(t, "http://"+maddr+"/metrics")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "tokenomics_")
	code, body = httpGet(t, "http://"+maddr+"/ready")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"tokens"`)

	// Without metrics_addr nothing moves.
	code, body = httpGet(t, e.url+"/metrics")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "tokenomics_")
}
