package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// TestSigninStores: failed sign-ins from one source, spread over two
// replicas (two handles on one bbolt file or one PostgreSQL database, or
// one process in memory), use up one allowance: after signinBurst failures
// in all, neither replica lets the source try; one refill later one try is
// back; another source is not touched. Concurrent failures on both
// replicas each count.
func TestSigninStores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		open func(t *testing.T, clk *clock) (a, b *sessions)
	}{
		{"memory", func(t *testing.T, clk *clock) (*sessions, *sessions) {
			s := newSessions(time.Hour, time.Hour, clk.now, nil, hclog.NewNullLogger())
			return s, s
		}},
		{"bolt", func(t *testing.T, clk *clock) (*sessions, *sessions) {
			db, err := bbolt.Open(filepath.Join(t.TempDir(), "a.db"), 0o600, &bbolt.Options{Timeout: time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			var out []*sessions
			for range 2 {
				st, err := openBoltSignins(db)
				require.NoError(t, err)
				s := newSessions(time.Hour, time.Hour, clk.now, nil, hclog.NewNullLogger())
				s.signins = st
				out = append(out, s)
			}
			return out[0], out[1]
		}},
		{"postgres replicas", func(t *testing.T, clk *clock) (*sessions, *sessions) {
			dsn := pgtest.FreshDSN(t)
			var out []*sessions
			for range 2 {
				st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey, Now: clk.now})
				require.NoError(t, err)
				t.Cleanup(func() { _ = st.Close() })
				s := newSessions(time.Hour, time.Hour, clk.now, nil, hclog.NewNullLogger())
				s.signins = st.ConsoleSignins()
				out = append(out, s)
			}
			return out[0], out[1]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
			a, b := tc.open(t, clk)
			allowed := func(s *sessions, src string) bool {
				ok, err := s.takeSignin(src)
				require.NoError(t, err)
				return ok
			}
			for i := range signinBurst {
				r := []*sessions{a, b}[i%2]
				require.True(t, allowed(r, "10.0.0.1"), "try %d", i+1)
			}
			assert.False(t, allowed(a, "10.0.0.1"), "locked on a after tries on both")
			assert.False(t, allowed(b, "10.0.0.1"), "locked on b after tries on both")
			assert.True(t, allowed(b, "10.0.0.2"), "another source keeps its tries")

			clk.add(signinRefill)
			assert.True(t, allowed(b, "10.0.0.1"), "one try back after a refill")
			assert.False(t, allowed(a, "10.0.0.1"), "and used up on the other replica")

			// A right key gives its try back: the allowance is as before.
			for range signinBurst - 1 {
				require.True(t, allowed(a, "10.0.0.4"))
			}
			require.True(t, allowed(b, "10.0.0.4"), "the last try")
			require.NoError(t, b.giveSignin("10.0.0.4"))
			require.True(t, allowed(a, "10.0.0.4"), "given back")
			assert.False(t, allowed(b, "10.0.0.4"))

			// Tries of a fresh source sent at once to both replicas: no
			// more than the allowance pass.
			var wg sync.WaitGroup
			var passed atomic.Int32
			for i := range 4 * signinBurst {
				wg.Add(1)
				go func(r *sessions) {
					defer wg.Done()
					ok, err := r.takeSignin("10.0.0.3")
					assert.NoError(t, err)
					if ok {
						passed.Add(1)
					}
				}([]*sessions{a, b}[i%2])
			}
			wg.Wait()
			assert.Equal(t, int32(signinBurst), passed.Load(), "tries passed at once")
			assert.False(t, allowed(a, "10.0.0.3"), "every concurrent try counted")

			// Addresses of one IPv6 /64 share an allowance.
			for i := range signinBurst {
				require.True(t, allowed([]*sessions{a, b}[i%2], fmt.Sprintf("2001:db8:1:2::%x", i+1)), "try %d", i+1)
			}
			assert.False(t, allowed(a, "2001:db8:1:2:ffff:ffff:ffff:ffff"), "the /64 is locked")
			assert.True(t, allowed(a, "2001:db8:1:3::1"), "the next /64 is not")

			clk.add(signinBurst * signinRefill)
			assert.True(t, allowed(a, "10.0.0.1"), "refilled")
		})
	}
}

func TestSigninSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"not-an-address", "not-an-address"},
		{"", ""},
	} {
		assert.Equal(t, tc.want, signinSource(tc.in), tc.in)
	}
	assert.Equal(t, signinKey("2001:db8::1"), signinKey("2001:db8::ffff"), "one /64, one key")
	assert.NotEqual(t, signinKey("192.0.2.7"), signinKey("192.0.2.8"))
}

// TestSigninParallelReplicas: wrong keys posted all at once to two console
// replicas sharing a store (one bbolt file, or one PostgreSQL database) are
// compared with the key (401) no more than console.signin_attempts times in
// all; the rest are refused (429). Once refilled, a right key within the
// allowance signs in and gives its try back.
func TestSigninParallelReplicas(t *testing.T) {
	t.Parallel()
	const attempts = 3
	tests := []struct {
		name string
		opts func(t *testing.T) (a, b Options)
	}{
		{"bolt", func(t *testing.T) (Options, Options) {
			db, err := store.Open(filepath.Join(t.TempDir(), "central.db"), store.Options{HashKey: storetest.HashKey})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			svc := tokenapi.NewService(db, validator, policy.MergePatch, nil)
			return Options{Tokens: svc, DB: db.Bolt()}, Options{Tokens: svc, DB: db.Bolt()}
		}},
		{"postgres replicas", func(t *testing.T) (Options, Options) {
			dsn := pgtest.FreshDSN(t)
			var out []Options
			for range 2 {
				st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey})
				require.NoError(t, err)
				t.Cleanup(func() { _ = st.Close() })
				out = append(out, Options{Tokens: tokenapi.NewService(st, validator, policy.MergePatch, nil), Audit: st.AuditLog(), Sessions: st.ConsoleSessions(), Signins: st.ConsoleSignins()})
			}
			return out[0], out[1]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Now()}
			oa, ob := tc.opts(t)
			var urls []string
			for _, o := range []Options{oa, ob} {
				o.Key, o.APIKey, o.SigninAttempts = testConsoleKey, testAPIKey, attempts
				o.Validate, o.Patch = validator, policy.MergePatch
				con, err := New(o)
				require.NoError(t, err)
				con.now = clk.now
				hs := httptest.NewServer(con.Mount(http.NotFoundHandler()))
				t.Cleanup(hs.Close)
				urls = append(urls, hs.URL)
			}
			// post signs in on replica i with key; the form comes from
			// that replica first.
			type form struct {
				c   *http.Client
				url string
				tok string
			}
			newForm := func(i int) form {
				c := client(t)
				resp, err := c.Get(urls[i%2] + "/ui/signin")
				require.NoError(t, err)
				m := signinTokenRE.FindStringSubmatch(body(t, resp))
				require.NotNil(t, m)
				return form{c: c, url: urls[i%2], tok: m[1]}
			}
			post := func(f form, key string) int {
				resp, err := f.c.PostForm(f.url+"/ui/signin", url.Values{"signin_token": {f.tok}, "name": {"w5b"}, "key": {key}, "next": {"/ui/tokens"}})
				if !assert.NoError(t, err) {
					return 0
				}
				_ = body(t, resp)
				return resp.StatusCode
			}

			const n = 24
			forms := make([]form, n)
			for i := range forms {
				forms[i] = newForm(i)
			}
			statuses := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range forms {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					statuses[i] = post(forms[i], "wrong-key")
				}()
			}
			close(start)
			wg.Wait()
			counts := map[int]int{}
			for _, s := range statuses {
				counts[s]++
			}
			assert.Equal(t, attempts, counts[http.StatusUnauthorized], "keys compared: %v", counts)
			assert.Equal(t, n-attempts, counts[http.StatusTooManyRequests], "refused: %v", counts)

			clk.add(attempts * signinRefill)
			for i := range attempts - 1 {
				assert.Equal(t, http.StatusUnauthorized, post(newForm(i), "wrong-key"))
			}
			assert.Equal(t, http.StatusSeeOther, post(newForm(1), testConsoleKey), "the right key within the allowance")
			assert.Equal(t, http.StatusUnauthorized, post(newForm(0), "wrong-key"), "its try was given back")
			assert.Equal(t, http.StatusTooManyRequests, post(newForm(1), testConsoleKey), "then locked")
		})
	}
}
