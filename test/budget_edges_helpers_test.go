package test

import (
	"net/http"
	"sync"
	"testing"
)

// limProxy is a proxy started by startLimProxy, with what a test needs to
// restart it or look at its files and counters.
type limProxy struct {
	port      int
	dir       string
	env       []string
	tok, hash string
	p         *proc
}

// startLimProxy starts a proxy on a fresh port in front of fakeURL, with
// the limits environment, extra YAML in its config and one token of
// policy. prep runs on the proxy's directory before the token is created,
// for config edits newProxyDir has no field for.
func startLimProxy(t *testing.T, fakeURL, extra, policy string, prep ...func(dir string)) limProxy {
	t.Helper()
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fakeURL, port: port, extra: extra})
	for _, f := range prep {
		f(dir)
	}
	env := limitsEnv()
	tok, hash := createToken(t, dir, env, policy)
	p := startServe(t, dir, port, env)
	return limProxy{port: port, dir: dir, env: env, tok: tok, hash: hash, p: p}
}

// startStoryStreams starts n streamed chat requests of maxTok tokens each,
// long and slow at the fake so they are still running when the test acts
// on the proxy; wg.Wait returns when every stream has ended.
func startStoryStreams(c *http.Client, url, tok string, n, maxTok int) ([]*sseStream, *sync.WaitGroup) {
	streams := make([]*sseStream, n)
	wg := &sync.WaitGroup{}
	for i := range streams {
		streams[i] = &sseStream{}
		wg.Add(1)
		body := limChatJSON("gpt-4o-mini", "tell a story [[fake:long=250,slow=100ms]]", maxTok, true)
		go readSSE(c, url+"/v1/chat/completions", tok, body, streams[i], wg.Done)
	}
	return streams, wg
}
