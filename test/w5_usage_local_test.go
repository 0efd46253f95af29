package test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestW5UsageLocalRunningProxy: `tokenomics usage --local` while the proxy
// runs (it holds the file) reads the report through the proxy's loopback
// admin endpoint, including requests the proxy has not written yet; a
// file held by a process that announces no endpoint gets an error that
// says so and names the online way.
func TestW5UsageLocalRunningProxy(t *testing.T) {
	t.Parallel()
	px := pxStart(t, "")
	tok, _ := px.token(t, `{"max_tokens":1000000}`)
	for range 3 {
		r := pxPost(t, px.url+"/v1/chat/completions", tok, pxChat("gpt-4o", "usage local", false, ""))
		require.Equal(t, 200, r.status, "%s", r.body)
	}
	res := run(t, px.dir, px.env, "usage", "--local", "--by", "token", "--since", "1h", "--format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	var rep struct {
		Source string `json:"source"`
		Rows   []struct {
			Group    string `json:"group"`
			Requests int64  `json:"requests"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep), res.stdout)
	var n int64
	for _, r := range rep.Rows {
		n += r.Requests
	}
	assert.EqualValues(t, 3, n, "%s", res.stdout)
	assert.Contains(t, rep.Source, "running proxy")

	// Wrong by: the proxy's answer is shown.
	res = run(t, px.dir, px.env, "usage", "--local", "--by", "colour")
	require.NotEqual(t, 0, res.code)
	assert.Contains(t, res.stderr, "--by")

	// A file held by something that announces no admin endpoint.
	dir := t.TempDir()
	copyFile(t, filepath.Join(px.dir, "config.yaml"), dir, "config.yaml")
	copyFile(t, filepath.Join(px.dir, "providers.yaml"), dir, "providers.yaml")
	db, err := bolt.Open(filepath.Join(dir, "tokenomics.db"), 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	res = run(t, dir, px.env, "usage", "--local")
	require.NotEqual(t, 0, res.code)
	assert.Contains(t, res.stderr, "announces no local admin endpoint")
	assert.Contains(t, res.stderr, "--remote")
}
