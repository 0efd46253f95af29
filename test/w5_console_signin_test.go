package test

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// w5SigninAttempt posts one console sign-in with key to base and returns
// the status.
func w5SigninAttempt(t *testing.T, base, key string) int {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return signinVia(t, &http.Client{Jar: jar, Timeout: 10 * time.Second}, base, key, "")
}

// TestW5ConsoleSigninLockoutAcrossReplicas attacks two central replicas on
// one PostgreSQL (the real binary, as a load balancer would spread the
// tries): wrong keys sent alternately to A and B lock the source out on
// both after console.signin_attempts (3) failures in all, so the right key
// is refused too; counted per replica, each would have granted 3 tries.
func TestW5ConsoleSigninLockoutAcrossReplicas(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv("TOKENOMICS_POSTGRES_DSN=" + pgtest.FreshDSN(t))
	var urls []string
	for range 2 {
		port := freePort(t)
		dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
		postgresCentral(t, dir)
		f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString("console:\n  signin_attempts: 3\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		startRemote(t, dir, port, env)
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	for i := range 3 {
		assert.Equal(t, http.StatusUnauthorized, w5SigninAttempt(t, urls[i%2], "wrong-key"), "try %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, w5SigninAttempt(t, urls[1], "wrong-key"), "B: locked out after 2 failures on A and 1 on B")
	assert.Equal(t, http.StatusTooManyRequests, w5SigninAttempt(t, urls[1], centralKey), "B: even the right key is refused while locked out")
	assert.Equal(t, http.StatusTooManyRequests, w5SigninAttempt(t, urls[0], centralKey), "A: even the right key is refused while locked out")
}
