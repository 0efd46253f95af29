package tokenapi

import (
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLocalAdminHandle: routes added with Handle answer behind the same
// secret as the token API; without a Manager (a synced proxy) the token
// API is absent (404 once authenticated), and nothing answers without the
// secret.
func TestLocalAdminHandle(t *testing.T) {
	t.Parallel()
	svc, _ := newTestService(t)
	for _, tc := range []struct {
		name   string
		m      Manager
		tokens int
	}{
		{"with tokens", svc, http.StatusOK},
		{"usage only", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "p.db")
			admin := NewLocalAdmin(tc.m, nil)
			admin.Handle("GET /api/v1/usage", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, `{"rows":[]}`)
			}))
			require.NoError(t, admin.Start(path, "127.0.0.1:0"))
			t.Cleanup(func() { _ = admin.Close() })
			d, err := ReadDiscovery(path)
			require.NoError(t, err)
			get := func(p, secret string) (int, string) {
				req, err := http.NewRequest(http.MethodGet, "http://"+d.Addr+p, nil)
				require.NoError(t, err)
				if secret != "" {
					req.Header.Set("Authorization", "Bearer "+secret)
				}
				resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			code, body := get("/api/v1/usage", d.Secret)
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, `{"rows":[]}`, body)
			code, _ = get("/api/v1/usage", "wrong")
			assert.Equal(t, http.StatusUnauthorized, code)
			code, _ = get("/api/v1/tokens", d.Secret)
			assert.Equal(t, tc.tokens, code)
			code, _ = get("/api/v1/tokens", "")
			assert.Equal(t, http.StatusUnauthorized, code)
			code, _ = get("/elsewhere", "")
			assert.Equal(t, http.StatusUnauthorized, code, "nothing answers without the secret")
		})
	}
}
