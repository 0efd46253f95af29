package console

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// TestSigninBehindTrustedProxy: with the test client's address
// (127.0.0.1) trusted as a balancer, each client it forwards for has its
// own sign-in allowance and the audit log names the client; without it,
// X-Forwarded-For is ignored and every try counts against the peer.
func TestSigninBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	const attempts = 2
	tests := []struct {
		name    string
		trusted []netip.Prefix
		// want is the status of each post: (forwarded-for, key).
		posts []struct{ xff, key string }
		want  []int
		who   string // the audit log's signin entry, when one signs in
	}{
		{
			name:    "trusted balancer: one allowance per client",
			trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			posts: []struct{ xff, key string }{
				{"198.51.100.66", "wrong"}, {"198.51.100.66", "wrong"}, {"198.51.100.66", testConsoleKey},
				{"192.0.2.1, 198.51.100.66", "wrong"}, // spoofed hop left of the balancer's
				{"198.51.100.7", testConsoleKey},
			},
			want: []int{401, 401, 429, 429, 303},
			who:  "op (198.51.100.7)",
		},
		{
			name:    "trusted balancer: one IPv6 /64, one allowance",
			trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			posts: []struct{ xff, key string }{
				{"2001:db8:1:2::1", "wrong"}, {"[2001:db8:1:2::2]:443", "wrong"}, {"2001:db8:1:2::3", testConsoleKey},
				{"2001:db8:1:3::1", testConsoleKey},
			},
			want: []int{401, 401, 429, 303},
			who:  "op (2001:db8:1:3::1)",
		},
		{
			name: "no trusted proxies: the header is ignored",
			posts: []struct{ xff, key string }{
				{"198.51.100.1", "wrong"}, {"198.51.100.2", "wrong"}, {"198.51.100.3", testConsoleKey},
			},
			want: []int{401, 401, 429},
		},
		{
			name:    "untrusted peer: the header is ignored",
			trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			posts: []struct{ xff, key string }{
				{"198.51.100.1", "wrong"}, {"10.0.0.1", "wrong"}, {"198.51.100.3", testConsoleKey}, {"", testConsoleKey},
			},
			want: []int{401, 401, 429, 429},
		},
		{
			name:    "garbage from a trusted balancer: counted as the balancer",
			trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			posts: []struct{ xff, key string }{
				{"unknown", "wrong"}, {"not an address", "wrong"}, {"", "wrong"}, {"198.51.100.7", testConsoleKey}, {"", testConsoleKey},
			},
			want: []int{401, 401, 429, 303, 429},
			who:  "op (198.51.100.7)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := store.Open(filepath.Join(t.TempDir(), "central.db"), store.Options{HashKey: storetest.HashKey})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			con, err := New(Options{Tokens: tokenapi.NewService(db, validator, policy.MergePatch, nil), Validate: validator, Patch: policy.MergePatch,
				DB: db.Bolt(), Key: testConsoleKey, APIKey: testAPIKey, SigninAttempts: attempts, ClientAddr: clientaddr.New(tc.trusted)})
			require.NoError(t, err)
			hs := httptest.NewServer(con.Mount(http.NotFoundHandler()))
			t.Cleanup(hs.Close)

			for i, p := range tc.posts {
				c := client(t)
				resp, err := c.Get(hs.URL + "/ui/signin")
				require.NoError(t, err)
				m := signinTokenRE.FindStringSubmatch(body(t, resp))
				require.NotNil(t, m)
				req, err := http.NewRequest(http.MethodPost, hs.URL+"/ui/signin",
					strings.NewReader(url.Values{"signin_token": {m[1]}, "name": {"op"}, "key": {p.key}}.Encode()))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if p.xff != "" {
					req.Header.Set("X-Forwarded-For", p.xff)
				}
				resp, err = c.Do(req)
				require.NoError(t, err)
				_ = body(t, resp)
				assert.Equal(t, tc.want[i], resp.StatusCode, "post %d (%q)", i+1, p.xff)
			}
			entries, err := con.audit.recent(10)
			require.NoError(t, err)
			if tc.who == "" {
				assert.Empty(t, entries)
				return
			}
			require.NotEmpty(t, entries)
			assert.Equal(t, "signin", entries[0].Action)
			assert.Equal(t, tc.who, entries[0].Who)
		})
	}
}
