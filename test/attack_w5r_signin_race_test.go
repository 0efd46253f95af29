package test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestW5RConsoleSigninConcurrentGuesses: wrong keys posted all at once
// (each with its own valid sign-in form) must not each pass the allowance
// check before any failure is counted: at most console.signin_attempts of
// them are even compared with the key (401), the rest are refused (429).
func TestW5RConsoleSigninConcurrentGuesses(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv()
	port := freePort(t)
	dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("console:\n  signin_attempts: 3\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	startRemote(t, dir, port, env)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	const n = 40
	type form struct {
		c   *http.Client
		tok string
	}
	forms := make([]form, n)
	re := regexp.MustCompile(`name="signin_token" value="([^"]+)"`)
	for i := range forms {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := c.Get(base + "/ui/signin")
		require.NoError(t, err)
		page, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		m := re.FindSubmatch(page)
		require.NotNil(t, m)
		forms[i] = form{c: c, tok: string(m[1])}
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := forms[i].c.PostForm(base+"/ui/signin", url.Values{"signin_token": {forms[i].tok}, "key": {"wrong-key"}, "name": {"w5r"}})
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	t.Logf("statuses: %v", counts)
	assert.LessOrEqual(t, counts[http.StatusUnauthorized], 3, "keys compared: %v", counts)
	assert.Equal(t, n, counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests], "every try answered 401 or 429: %v", counts)
}
