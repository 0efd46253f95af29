package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// pxEnv is one fake upstream and one running proxy in its own directory.
type pxEnv struct {
	fake *fakeupstream.Server
	p    *proc
	dir  string
	env  []string
	url  string
}

// pxStart runs a fake and a proxy on a fresh port; extra is appended to
// config.yaml and env to the process environment.
func pxStart(t *testing.T, extra string, env ...string) *pxEnv {
	t.Helper()
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port, extra: extra})
	e := proxyEnv(env...)
	p := startServe(t, dir, port, e)
	pxNoRace(t, p)
	return &pxEnv{fake: fake, p: p, dir: dir, env: e, url: p.URL}
}

// pxNoRace fails the test if the proxy, when built with -race (point
// TOKENOMICS_BIN at such a build), reported a data race.
func pxNoRace(t *testing.T, p *proc) {
	t.Cleanup(func() {
		if strings.Contains(p.Logs(), "WARNING: DATA RACE") {
			t.Errorf("the proxy reported a data race:\n%s", p.Logs())
		}
	})
}

// token creates a token through the running proxy's admin endpoint.
func (e *pxEnv) token(t *testing.T, policy string, extra ...string) (tok, hash string) {
	t.Helper()
	return createToken(t, e.dir, e.env, policy, extra...)
}

// pxResp is a finished HTTP exchange with the proxy.
type pxResp struct {
	status int
	header http.Header
	body   []byte
}

// pxClient has a generous timeout so a loaded machine does not fail tests;
// tests that expect a timeout bound it themselves.
var pxClient = &http.Client{Timeout: 30 * time.Second}

// pxDo sends method path with body; hdr holds header pairs (name, value).
func pxDo(t *testing.T, method, url, body string, hdr ...string) pxResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := pxClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return pxResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// pxPost posts a JSON body with a bearer token.
func pxPost(t *testing.T, url, tok, body string, hdr ...string) pxResp {
	t.Helper()
	return pxDo(t, "POST", url, body, append([]string{"Authorization", "Bearer " + tok}, hdr...)...)
}

// pxBudget is one counter of GET /v1/usage.
type pxBudget struct {
	Key      string `json:"key"`
	Limit    int64  `json:"limit"`
	Used     int64  `json:"used"`
	Reserved int64  `json:"reserved"`
}

// pxUsage returns the token's own budget counter (key "").
func pxUsage(t *testing.T, url, tok string) pxBudget {
	t.Helper()
	r := pxDo(t, "GET", url+"/v1/usage", "", "Authorization", "Bearer "+tok)
	require.Equal(t, 200, r.status, string(r.body))
	var out struct {
		Budgets []pxBudget `json:"budgets"`
	}
	require.NoError(t, json.Unmarshal(r.body, &out), string(r.body))
	for _, b := range out.Budgets {
		if b.Key == "" {
			return b
		}
	}
	t.Fatalf("no token budget in %s", r.body)
	return pxBudget{}
}

// pxSettled waits (up to 15s, for a loaded machine; it returns as soon as
// they are) for the token's reservations to return to 0: a stream is
// settled after its last byte has gone to the client.
func pxSettled(t *testing.T, url, tok string) pxBudget {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b := pxUsage(t, url, tok)
		if b.Reserved == 0 || time.Now().After(deadline) {
			return b
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pxSSE returns the data payloads and event names of an SSE body, in order.
func pxSSE(body []byte) (data []string, names []string) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimSpace(strings.TrimPrefix(line, "data:")))
		case strings.HasPrefix(line, "event:"):
			names = append(names, strings.TrimSpace(strings.TrimPrefix(line, "event:")))
		}
	}
	return data, names
}

// pxOpenAIError checks the OpenAI error shape and returns its code.
func pxOpenAIError(t *testing.T, body []byte) (code, typ, msg string) {
	t.Helper()
	var out struct {
		Error *struct {
			Message *string `json:"message"`
			Type    *string `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &out), string(body))
	require.NotNil(t, out.Error, "no error object: %s", body)
	require.NotNil(t, out.Error.Message, "error without message: %s", body)
	require.NotNil(t, out.Error.Type, "error without type: %s", body)
	require.NotNil(t, out.Error.Code, "error without code: %s", body)
	assert.NotEmpty(t, *out.Error.Message)
	return *out.Error.Code, *out.Error.Type, *out.Error.Message
}

// pxFindRequest returns the upstream request whose body contains marker.
func pxFindRequest(t *testing.T, fake *fakeupstream.Server, marker string) fakeupstream.Request {
	t.Helper()
	var found []fakeupstream.Request
	for _, r := range fake.Requests() {
		if bytes.Contains(r.Body, []byte(marker)) {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "upstream requests carrying %q", marker)
	return found[0]
}

// pxPredictTotal is what the fake charges for the request it received:
// prompt plus completion tokens.
func pxPredictTotal(t *testing.T, r fakeupstream.Request) int64 {
	t.Helper()
	p, err := fakeupstream.Predict(r.Path, r.Body)
	require.NoError(t, err)
	return int64(p.PromptTokens + p.CompletionTokens)
}

// pxTimedStream posts a streaming request and records when each SSE data
// line arrived.
type pxLine struct {
	at   time.Time
	data string
}

func pxStream(t *testing.T, url, tok, body string) (status int, lines []pxLine) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := pxClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
			lines = append(lines, pxLine{at: time.Now(), data: strings.TrimSpace(d)})
		}
	}
	return resp.StatusCode, lines
}

// pxChat is a chat body for model with one user message.
func pxChat(model, content string, stream bool, extra string) string {
	b, _ := json.Marshal(content)
	s := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%s}]`, model, b)
	if stream {
		s += `,"stream":true`
	}
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}
