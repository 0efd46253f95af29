package test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// feedSince reads a central server's token feed after since, raw.
func feedSince(t *testing.T, centralURL string, since int) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/tokens?since=%d", centralURL, since), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+centralKey)
	resp, err := apiClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	return string(b)
}

// TestPGMigrateKeepsRevisions: a bbolt central with creates and deletes
// is migrated to PostgreSQL with `tokenomics migrate` and restarted on it.
// The feed since every revision reads the same, tombstones included, and
// the proxy synced from the old central goes on with since= pulls (no
// full fetch): a delete on the migrated central is refused by push.
func TestPGMigrateKeepsRevisions(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshDSN(t)
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv("TOKENOMICS_POSTGRES_DSN=" + dsn)
	cport, pport := freePort(t), freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", cport)
	dir := newCentralDir(t, centralSetup{fakeURL: fake.URL(), webhooks: []string{fmt.Sprintf("http://127.0.0.1:%d/v1/webhook", pport)}})
	central := startRemote(t, dir, cport, env, "--allow-unsigned-plugins")

	toks, hashes := make([]string, 4), make([]string, 4)
	for i := range toks {
		toks[i], hashes[i] = apiCreate(t, centralURL)
	}
	apiDelete(t, centralURL, hashes[0])
	pdir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: pport, extra: syncedProxy(centralURL, 300, true)})
	proxy := startServe(t, pdir, pport, proxyEnv())
	pxNoRace(t, proxy)
	waitAll(t, []string{proxy.URL}, toks[3], "hello", 200, 10*time.Second)
	waitAll(t, []string{proxy.URL}, toks[0], "hello", 401, 10*time.Second)
	apiDelete(t, centralURL, hashes[1])
	waitAll(t, []string{proxy.URL}, toks[1], "hello", 401, 10*time.Second)

	before := map[int]string{}
	for since := range 7 {
		before[since] = feedSince(t, centralURL, since)
	}
	require.Contains(t, before[5], `"deleted":true`, "the feed since 5 carries the second delete's tombstone")
	central.Stop(t)

	postgresCentral(t, dir)
	res := run(t, dir, env, "migrate")
	require.Equal(t, 0, res.code, "migrate: %s", res.stderr)
	require.Contains(t, res.stdout, "up to revision 6")
	// A second run refuses: the target holds tokens now.
	res = run(t, dir, env, "migrate")
	require.NotEqual(t, 0, res.code)
	require.Contains(t, res.stderr, "already holds tokens")

	fullFetches := strings.Count(proxy.Logs(), "replaced tokens with a full fetch")
	startRemote(t, dir, cport, env, "--allow-unsigned-plugins")
	for since := range 7 {
		require.Equal(t, before[since], feedSince(t, centralURL, since), "feed since %d after the migration", since)
	}
	apiDelete(t, centralURL, hashes[2])
	d := waitAll(t, []string{proxy.URL}, toks[2], "hello", 401, 10*time.Second)
	tok, _ := apiCreate(t, centralURL)
	waitAll(t, []string{proxy.URL}, tok, "hello", 200, 10*time.Second)
	require.Equal(t, 200, chatStatus(t, proxy.URL, toks[3], "hello"))
	require.Equal(t, fullFetches, strings.Count(proxy.Logs(), "replaced tokens with a full fetch"),
		"the proxy fell back to a full fetch after the migration")
	t.Logf("migrated 6 revisions; a delete on the migrated central was refused by the proxy in %s", d)
}
