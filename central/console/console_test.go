package console

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

const (
	testAPIKey     = "console-test-api-key-0123456789"
	testConsoleKey = "console-test-sign-in-key"
)

// validator is the policy check cmd/cli gives the service, without the
// config-dependent parts.
func validator(raw json.RawMessage) (json.RawMessage, error) {
	if _, err := policy.Parse(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

type fixture struct {
	url     string
	con     *Console
	db      *store.DB
	clock   *clock
	mu      sync.Mutex
	emitted []events.Event
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newFixture serves a real central server with the console on httptest.
func newFixture(t *testing.T) *fixture { return newFixtureFleet(t, nil) }

// newFixtureFleet is newFixture with GET /api/v1/fleet answered by fleet
// (nil: the central server's own answer).
func newFixtureFleet(t *testing.T, fleet http.HandlerFunc) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "central.db"), store.Options{HashKey: []byte("0123456789abcdef-console-test")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	reg, err := central.OpenRegistry(db.Bolt(), nil, nil)
	require.NoError(t, err)
	svc := tokenapi.NewService(db, validator, policy.MergePatch, nil)
	f := &fixture{db: db, clock: &clock{t: time.Now()}}
	con, err := New(Options{Tokens: svc, Validate: validator, Patch: policy.MergePatch, APIKey: testAPIKey, Key: testConsoleKey,
		IdleTimeout: 10 * time.Minute, DB: db.Bolt(), Revision: db.Revision,
		Emit: func(ev events.Event) { f.mu.Lock(); f.emitted = append(f.emitted, ev); f.mu.Unlock() }})
	require.NoError(t, err)
	con.now = f.clock.now
	con.sessions.now = f.clock.now
	mount := con.Mount
	if fleet != nil {
		mount = func(api http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/", api)
			mux.Handle("GET /api/v1/fleet", fleet)
			return con.Mount(mux)
		}
	}
	srv, err := central.New(central.Options{DB: db, Tokens: svc, Registry: reg, APIKey: testAPIKey, Console: mount})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	f.url, f.con = hs.URL, con
	return f
}

// client is a browser stand-in: cookies, no redirects followed.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	signinTokenRE = regexp.MustCompile(`name="signin_token" value="([^"]+)"`)
	csrfRE        = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)
)

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return string(b)
}

// signin signs c in with key and returns the answer to the sign-in post.
func (f *fixture) signin(t *testing.T, c *http.Client, key string) *http.Response {
	t.Helper()
	resp, err := c.Get(f.url + "/ui/signin")
	require.NoError(t, err)
	m := signinTokenRE.FindStringSubmatch(body(t, resp))
	require.NotNil(t, m)
	resp, err = c.PostForm(f.url+"/ui/signin", url.Values{"signin_token": {m[1]}, "name": {"bob"}, "key": {key}, "next": {"/ui/tokens"}})
	require.NoError(t, err)
	return resp
}

// csrf reads the session's CSRF token from a page.
func (f *fixture) csrf(t *testing.T, c *http.Client) string {
	t.Helper()
	resp, err := c.Get(f.url + "/ui/tokens")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := csrfRE.FindStringSubmatch(body(t, resp))
	require.NotNil(t, m)
	return m[1]
}

func TestSigninSessionAndCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := client(t)

	resp, err := c.Get(f.url + "/ui/tokens")
	require.NoError(t, err)
	_ = body(t, resp)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "no session: to the sign-in page")

	resp = f.signin(t, c, "wrong")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.NotContains(t, body(t, resp), testConsoleKey)
	resp = f.signin(t, c, testAPIKey)
	_ = body(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "with a console key, the API key does not sign in")

	resp = f.signin(t, c, testConsoleKey)
	_ = body(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	require.NotNil(t, session)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
	assert.False(t, session.Secure, "plain HTTP: Secure would drop the cookie")
	assert.Equal(t, "/ui/", session.Path)

	token := f.csrf(t, c)
	contractor, err := os.ReadFile("policies/contractor.json")
	require.NoError(t, err)
	form := url.Values{"policy": {string(contractor)}, "expires": {"30d"}, "template": {"contractor"}}
	tests := []struct {
		name   string
		csrf   string
		origin string
		want   int
	}{
		{name: "no token", want: http.StatusForbidden},
		{name: "wrong token", csrf: "forged", want: http.StatusForbidden},
		{name: "other origin", csrf: token, origin: "http://evil.example", want: http.StatusForbidden},
		{name: "good", csrf: token, want: http.StatusCreated},
	}
	for _, tc := range tests { // in order: only the last creates a token
		v := url.Values{}
		for k, x := range form {
			v[k] = x
		}
		if tc.csrf != "" {
			v.Set("csrf", tc.csrf)
		}
		req, err := http.NewRequest("POST", f.url+"/ui/tokens", strings.NewReader(v.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		page := body(t, resp)
		assert.Equal(t, tc.want, resp.StatusCode, tc.name)
		assert.NotContains(t, page, testConsoleKey, tc.name)
		assert.NotContains(t, page, testAPIKey, tc.name)
	}
	recs, err := f.db.List()
	require.NoError(t, err)
	assert.Len(t, recs, 1, "only the post with the CSRF token created a token")

	entries, err := f.con.audit.recent(10)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "token.create", entries[0].Action)
	assert.Contains(t, entries[0].Who, "bob")
	assert.Equal(t, "signin", entries[1].Action)
	f.mu.Lock()
	assert.Len(t, f.emitted, 2, "every audit entry is emitted")
	assert.Equal(t, EventAudit, f.emitted[1].Type)
	f.mu.Unlock()

	// Idle sessions end.
	f.clock.add(11 * time.Minute)
	resp, err = c.Get(f.url + "/ui/tokens")
	require.NoError(t, err)
	_ = body(t, resp)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "an idle session has ended")
}

func TestSigninThrottled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := client(t)
	for i := 0; i < signinBurst; i++ {
		resp := f.signin(t, c, "wrong")
		_ = body(t, resp)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	resp := f.signin(t, c, testConsoleKey)
	_ = body(t, resp)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "even the right key waits once the source is throttled")
	f.clock.add(signinRefill)
	resp = f.signin(t, c, testConsoleKey)
	_ = body(t, resp)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
}

func TestValidateUsesFieldPaths(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := client(t)
	_ = body(t, f.signin(t, c, testConsoleKey))
	token := f.csrf(t, c)
	tests := []struct {
		name   string
		policy string
		paths  []string
	}{
		{name: "valid", policy: `{"model":"gpt-4o","max_tokens":10}`},
		{name: "two fields", policy: `{"max_tokens":-1,"rules":[{"name":"x","type":"pii","detect":["ssn"],"action":"boom"}]}`, paths: []string{"max_tokens", "rules[0].action"}},
		{name: "not json", policy: `{"model":`, paths: []string{""}},
	}
	for _, tc := range tests {
		req, err := http.NewRequest("POST", f.url+"/ui/tokens/validate", strings.NewReader(url.Values{"policy": {tc.policy}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", token)
		resp, err := c.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, tc.name)
		var out struct {
			OK     bool           `json:"ok"`
			Errors []fieldProblem `json:"errors"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		_ = resp.Body.Close()
		assert.Equal(t, len(tc.paths) == 0, out.OK, tc.name)
		var paths []string
		for _, e := range out.Errors {
			paths = append(paths, e.Path)
			if e.Path != "" {
				// The CLI prints the validator's error: "policy: <path>: <msg>".
				assert.Equal(t, "policy: "+e.Path+": "+e.Msg, e.Text)
			}
		}
		assert.ElementsMatch(t, tc.paths, paths, tc.name)
	}
}

func TestTemplatesAreTheExamples(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob("policies/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, n := range names {
		ours, err := os.ReadFile(n)
		require.NoError(t, err)
		theirs, err := os.ReadFile(filepath.Join("..", "..", "examples", "distributed-team", "policies", filepath.Base(n)))
		require.NoError(t, err, "every template is one of the distributed-team example's role policies")
		assert.Equal(t, string(theirs), string(ours), "%s drifted from the example", n)
		_, err = policy.Parse(ours)
		assert.NoError(t, err, n)
	}
}

func TestLineDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{name: "same", a: "a\nb", b: "a\nb", want: " a| b"},
		{name: "changed line", a: "a\nb\nc", b: "a\nB\nc", want: " a|-b|+B| c"},
		{name: "added", a: "a", b: "a\nb", want: " a|+b"},
		{name: "removed", a: "a\nb", b: "b", want: "-a| b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var parts []string
			for _, l := range lineDiff(tc.a, tc.b) {
				parts = append(parts, string(l.Op)+l.Text)
			}
			assert.Equal(t, tc.want, strings.Join(parts, "|"))
		})
	}
}

func TestFeedOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		typ     string
		data    any
		token   string
		refusal bool
		summary string
	}{
		{name: "request", typ: events.RequestCompleted, data: events.RequestData{TokenHashPrefix: "aaaa1111", Model: "gpt-4o", Provider: "openai", Status: 200, InputTokens: 10, OutputTokens: 5, LatencyMS: 7},
			token: "aaaa1111", summary: "openai 200: 10 in, 5 out, 7 ms"},
		{name: "budget", typ: events.BudgetExceeded, data: events.LimitData{TokenHashPrefix: "aaaa1111", Limit: 10, Used: 12},
			token: "aaaa1111", refusal: true, summary: "limit 10, used 12"},
		{name: "rate", typ: events.RateExceeded, data: events.LimitData{TokenHashPrefix: "bbbb2222", Limit: 20, Used: 20, Window: "1m"},
			token: "bbbb2222", refusal: true, summary: "limit 20, used 20 per 1m"},
		{name: "violation", typ: events.RuleViolation, data: events.RuleData{TokenHashPrefix: "cccc3333", Rule: "no-secrets", Action: "block", Findings: []string{"aws_key"}},
			token: "cccc3333", refusal: true, summary: "rule no-secrets: block (aws_key)"},
		{name: "warning", typ: events.RuleWarning, data: events.RuleData{TokenHashPrefix: "cccc3333", Rule: "pii", Action: "warn"},
			token: "cccc3333", summary: "rule pii: warn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := events.New(tc.typ, events.ProxySource("p1"), 0, tc.data)
			require.NoError(t, err)
			item, ok := feedOf(ev)
			require.True(t, ok)
			assert.Equal(t, tc.token, item.Token)
			assert.Equal(t, tc.refusal, item.Refusal)
			assert.Equal(t, tc.summary, item.Summary)
			assert.Equal(t, "proxy:p1", item.Source)
		})
	}
}

func TestFleetWatch(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	revs := []uint64{5, 3}
	f := newFixtureFleet(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testAPIKey {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = fmt.Fprintf(w, `{"revision":5,"proxies":[
			{"instance":"i-1","name":"proxy-a","version":"v1","revision":%d,"ready":true,"last_contact":%q,"lag":0,
			 "plugins":[{"name":"pii","version":"1.2.0","sha256":"ab","tokens":4,"state":"active","error":""}]},
			{"instance":"i-2","name":"proxy-b","version":"v1","revision":%d,"ready":true,"last_contact":%q,"lag":%d,"plugins":[]}]}`,
			revs[0], time.Now().UTC().Format(time.RFC3339), revs[1], time.Now().UTC().Format(time.RFC3339), 5-revs[1])
	})
	c := client(t)
	_ = body(t, f.signin(t, c, testConsoleKey))
	get := func() string {
		resp, err := c.Get(f.url + "/ui/fleet?watch=5&token=abcd1234")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return body(t, resp)
	}
	page := get()
	assert.Contains(t, page, "Applied on 1 of 2 proxies; waiting for proxy-b (i-2)")
	assert.Contains(t, page, `http-equiv="refresh"`, "a pending change refreshes the page")
	assert.Contains(t, page, "pii 1.2.0")
	mu.Lock()
	revs[1] = 5
	mu.Unlock()
	page = get()
	assert.Contains(t, page, "Applied on all 2 proxies.")
	assert.NotContains(t, page, `http-equiv="refresh"`)
}

func TestPluginUploadAndWithdraw(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := client(t)
	_ = body(t, f.signin(t, c, testConsoleKey))
	token := f.csrf(t, c)
	wasm := hostile.AllowTagged("console")
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	env, err := manifest.Sign(manifest.Manifest{Schema: 1, Name: "tagger", Version: "1.0.0", ABI: 1,
		SHA256: manifest.Sum(wasm), Size: int64(len(wasm)), SignedAt: time.Now().UTC()}, priv)
	require.NoError(t, err)
	upload := func(csrf string, env []byte) *http.Response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if csrf != "" {
			require.NoError(t, mw.WriteField("csrf", csrf))
		}
		fw, err := mw.CreateFormFile("wasm", "tagger.wasm")
		require.NoError(t, err)
		_, _ = fw.Write(wasm)
		fw, err = mw.CreateFormFile("manifest", "tagger.wasm.manifest.json")
		require.NoError(t, err)
		_, _ = fw.Write(env)
		require.NoError(t, mw.Close())
		req, err := http.NewRequest("POST", f.url+"/ui/plugins", &buf)
		require.NoError(t, err)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp := upload("", env)
	_ = body(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "an upload without the CSRF token is refused")

	var e manifest.Envelope
	require.NoError(t, json.Unmarshal(env, &e))
	e.Signatures = nil
	unsigned, err := json.Marshal(e)
	require.NoError(t, err)
	resp = upload(token, unsigned)
	page := body(t, resp)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, page, "refused this plugin")

	resp = upload(token, env)
	_ = body(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/ui/plugins", resp.Header.Get("Location"), "the status message is not carried in the URL")
	// The session shows its status message once, on the next page.
	resp, err = c.Get(f.url + "/ui/plugins")
	require.NoError(t, err)
	assert.Contains(t, body(t, resp), "Uploaded tagger 1.0.0")
	resp, err = c.Get(f.url + "/ui/plugins")
	require.NoError(t, err)
	assert.NotContains(t, body(t, resp), "Uploaded tagger 1.0.0", "a status message is shown once")

	sha := manifest.Sum(wasm)
	resp, err = c.PostForm(f.url+"/ui/plugins/"+sha+"/withdraw", url.Values{"csrf": {token}})
	require.NoError(t, err)
	_ = body(t, resp)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	entries, err := f.con.audit.recent(10)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(entries), 2)
	assert.Equal(t, "plugin.withdraw", entries[0].Action)
	assert.Equal(t, "plugin.upload", entries[1].Action)
}

func TestRollupView(t *testing.T) {
	t.Parallel()
	now := time.Now()
	minute := now.Unix() / 60 * 60
	hash := strings.Repeat("ab", 32)
	rows := []rollup.Row{
		{Key: rollup.Key{Token: hash, Model: "gpt-4o", Provider: "openai", Minute: minute},
			Counts: rollup.Counts{Requests: 2, InputTokens: 10, OutputTokens: 4}},
		{Key: rollup.Key{Token: hash, Model: "gpt-4o", Provider: "openai", Minute: minute - 7200},
			Counts: rollup.Counts{Requests: 1, InputTokens: 1, OutputTokens: 1, Refusals: map[string]int64{"budget_exceeded": 3}}},
		{Key: rollup.Key{Token: strings.Repeat("cd", 32), Model: "claude", Provider: "anthropic", Minute: minute},
			Counts: rollup.Counts{Requests: 1, InputTokens: 100}},
	}
	v := newRollupView(rows, now.Add(-48*time.Hour), now)
	prefix := events.HashPrefix(hash)
	tot, models := v.tokenTotals(prefix)
	assert.Equal(t, counts{Requests: 3, Input: 11, Output: 5, Refused: 3}, tot)
	assert.Equal(t, int64(3), models["gpt-4o"].Requests)
	assert.Equal(t, int64(2), v.window(prefix, time.Hour).Requests, "the window holds only the last hour")
	from := now.Truncate(time.Minute).Add(time.Minute).Add(-time.Hour)
	series := v.seriesBy("provider", from, time.Minute, 60)
	var openai, anthropic int64
	for _, p := range series["openai"] {
		openai += p.Tokens
	}
	for _, p := range series["anthropic"] {
		anthropic += p.Tokens
	}
	assert.Equal(t, int64(14), openai)
	assert.Equal(t, int64(100), anthropic)
}

// TestAuditStores runs the audit log on each place it can live: memory
// (no store), the bbolt file, and PostgreSQL (when
// TOKENOMICS_TEST_POSTGRES_DSN is set), which two replicas share.
func TestAuditStores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		open func(t *testing.T) (a, b *auditLog) // b sees what a wrote (another replica)
	}{
		{"memory", func(t *testing.T) (*auditLog, *auditLog) {
			a, err := openAudit(nil, nil)
			require.NoError(t, err)
			return a, a
		}},
		{"bolt", func(t *testing.T) (*auditLog, *auditLog) {
			db, err := bbolt.Open(filepath.Join(t.TempDir(), "a.db"), 0o600, &bbolt.Options{Timeout: time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			a, err := openAudit(db, nil)
			require.NoError(t, err)
			return a, a
		}},
		{"postgres", func(t *testing.T) (*auditLog, *auditLog) {
			dsn := pgtest.FreshDSN(t)
			var logs []*auditLog
			for range 2 {
				s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey})
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				a, err := openAudit(nil, s.AuditLog())
				require.NoError(t, err)
				logs = append(logs, a)
			}
			return logs[0], logs[1]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := tc.open(t)
			for i := 0; i < 3; i++ {
				require.NoError(t, a.append(auditEntry{Action: fmt.Sprint("a", i), Who: "op", Revision: uint64(i)}))
			}
			got, err := b.recent(2)
			require.NoError(t, err)
			require.Len(t, got, 2)
			assert.Equal(t, "a2", got[0].Action, "newest first")
			assert.Equal(t, "a1", got[1].Action)
			assert.Equal(t, "op", got[0].Who)
			assert.EqualValues(t, 2, got[0].Revision)
		})
	}
}

// TestSessionStores runs sign-in sessions on each place they can live:
// memory (no store), the bbolt file (a restart keeps them), and
// PostgreSQL, which two replicas share: a session made on one is used,
// flashed and ended on the other.
func TestSessionStores(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	mk := func(store SessionStore) *sessions {
		return newSessions(10*time.Minute, time.Hour, clk.now, store, hclog.NewNullLogger())
	}
	tests := []struct {
		name string
		open func(t *testing.T) (a, b *sessions) // b sees what a stored
	}{
		{"memory", func(t *testing.T) (*sessions, *sessions) { s := mk(nil); return s, s }},
		{"bolt", func(t *testing.T) (*sessions, *sessions) {
			path := filepath.Join(t.TempDir(), "a.db")
			db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			bs, err := openBoltSessions(db, clk.now)
			require.NoError(t, err)
			return mk(bs), mk(bs) // b: the same file after a restart
		}},
		{"postgres", func(t *testing.T) (*sessions, *sessions) {
			dsn := pgtest.FreshDSN(t)
			var out []*sessions
			for range 2 {
				s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey, Now: clk.now})
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				out = append(out, mk(s.ConsoleSessions()))
			}
			return out[0], out[1]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.open(t)
			s, err := a.create("op (127.0.0.1)")
			require.NoError(t, err)
			got := b.get(s.id)
			require.NotNil(t, got, "a session made on a is known to b")
			assert.Equal(t, s.csrf, got.csrf)
			assert.Equal(t, "op (127.0.0.1)", got.who)
			assert.Nil(t, b.get(s.id+"x"), "another id is no session")

			a.setFlash(got, "Token created.")
			if tc.name != "memory" {
				got = b.get(s.id)
			}
			assert.Equal(t, "Token created.", b.takeFlash(got))
			if tc.name != "memory" {
				got = a.get(s.id)
			}
			assert.Empty(t, a.takeFlash(got), "a flash shows once")

			clk.add(9 * time.Minute)
			require.NotNil(t, b.get(s.id), "used within the idle timeout")
			clk.add(9 * time.Minute)
			require.NotNil(t, a.get(s.id), "each use restarts the idle timeout")
			clk.add(11 * time.Minute)
			assert.Nil(t, b.get(s.id), "idle too long")

			s2, err := a.create("op2 (127.0.0.1)")
			require.NoError(t, err)
			require.NotNil(t, b.get(s2.id))
			b.end(s2.id)
			assert.Nil(t, a.get(s2.id), "signed out on b, gone on a")
		})
	}
}

// TestSecureCookiesOption: behind a load balancer that ends TLS the
// server sees plain HTTP; console.secure_cookies still marks the session
// cookie Secure.
func TestSecureCookiesOption(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.con.o.SecureCookies = true
	resp := f.signin(t, client(t), testConsoleKey)
	_ = body(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	found := false
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			found = true
			assert.True(t, ck.Secure)
		}
	}
	require.True(t, found)
}
