package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

type storedEventJSON struct {
	Seq   uint64       `json:"seq"`
	Event events.Event `json:"event"`
}

// TestUsageEventsAtCentral follows SEED's distributed-team files: central
// runs central-config.yaml unchanged and accepts, at /webhook, the signed
// events the proxy's catch-all alert webhook sends it (proxy-config.yaml
// with only central's port moved off 9090). `tokenomics events` lists them
// and follows new ones; forged, stale and replayed deliveries are refused.
func TestUsageEventsAtCentral(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	dir := seedDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(providersYAML(fake.URL())), 0o600))
	const key = "change-me-to-match-remote-server"
	env := append(proxyEnv(), "TOKENOMICS_REMOTE_KEY="+key)
	tok, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":100000}`)

	cport := freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", cport)
	central := startProc(t, dir, env, centralURL, "/health", "remote", "--addr", fmt.Sprintf("127.0.0.1:%d", cport), "--api-key", key)
	pxNoRace(t, central)

	pdir := t.TempDir()
	cfg, err := os.ReadFile("testdata/compat/proxy-config.yaml")
	require.NoError(t, err)
	cfg = bytes.Replace(cfg, []byte("http://localhost:9090/webhook"), fmt.Appendf(nil, "http://localhost:%d/webhook", cport), 1)
	require.NoError(t, os.WriteFile(filepath.Join(pdir, "config.yaml"), cfg, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(pdir, "providers.yaml"), []byte(providersYAML(fake.URL())), 0o600))
	hport, sport := freePort(t), freePort(t)
	penv := append(append([]string{}, env...),
		fmt.Sprintf("TOKENOMICS_SERVER_HTTP_PORT=%d", hport),
		fmt.Sprintf("TOKENOMICS_SERVER_HTTPS_PORT=%d", sport),
		"TOKENOMICS_REMOTE_URL="+centralURL)
	p := startServe(t, pdir, hport, penv)
	pxNoRace(t, p)

	r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", "events at the centre", false, ""))
	require.Equal(t, 200, r.status, "%s", r.body)

	list := func(args ...string) []storedEventJSON {
		t.Helper()
		res := run(t, t.TempDir(), env, append([]string{"events", "--remote", centralURL, "--format", "json"}, args...)...)
		require.Equal(t, 0, res.code, res.stderr)
		var out []storedEventJSON
		for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
			if line == "" {
				continue
			}
			var e storedEventJSON
			require.NoError(t, json.Unmarshal([]byte(line), &e), line)
			out = append(out, e)
		}
		return out
	}
	var got []storedEventJSON
	require.Eventually(t, func() bool {
		got = list("--type", "request.completed")
		return len(got) == 1
	}, 60*time.Second, 200*time.Millisecond, "the proxy's request.completed never reached central")
	require.Equal(t, events.RequestCompleted, got[0].Event.Type)
	require.True(t, strings.HasPrefix(got[0].Event.Source, "proxy:"), got[0].Event.Source)
	var data events.RequestData
	require.NoError(t, json.Unmarshal(got[0].Event.Data, &data))
	require.Equal(t, "gpt-4o", data.Model)
	require.Positive(t, data.InputTokens)
	require.Contains(t, eventTypes(list()), events.ServerStart, "the proxy's server.start is kept too")

	res := run(t, t.TempDir(), env, "events", "--remote", centralURL)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "request.completed")
	require.Contains(t, res.stdout, "SEQ")

	// --follow prints what arrives after it started.
	cmd := exec.Command(binary(t), "events", "--remote", centralURL, "--follow", "--format", "json", "--type", "rule.*", "--type", "request.*", "--poll", "100ms")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() storedEventJSON {
		t.Helper()
		select {
		case l, ok := <-lines:
			require.True(t, ok, "events --follow ended")
			var e storedEventJSON
			require.NoError(t, json.Unmarshal([]byte(l), &e), l)
			return e
		case <-time.After(60 * time.Second):
			t.Fatal("events --follow printed nothing new within 60s")
		}
		return storedEventJSON{}
	}
	require.Equal(t, got[0].Seq, next().Seq, "follow starts with what --since covers")
	r = pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o-mini", "followed", false, ""))
	require.Equal(t, 200, r.status, "%s", r.body)
	e := next()
	require.Equal(t, events.RequestCompleted, e.Event.Type)
	require.NoError(t, json.Unmarshal(e.Event.Data, &data))
	require.Equal(t, "gpt-4o-mini", data.Model)

	// Deliveries central must refuse.
	post := func(creds events.Credentials, id string, at time.Time, body []byte) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, centralURL+"/webhook", bytes.NewReader(body))
		require.NoError(t, err)
		events.SignHeaders(req.Header.Set, creds, id, at, body)
		resp, err := centralClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	good := events.Credentials{Secret: "change-me-webhook-secret", SigningKey: "change-me-signing-key", Direction: events.DirReport}
	id := events.NewID()
	body := fmt.Appendf(nil, `{"id":%q,"type":"rule.violation","time":"2026-12-07T00:00:00Z","source":"proxy:test"}`, id)
	require.Equal(t, http.StatusUnauthorized, post(events.Credentials{Secret: "change-me-webhook-secret", SigningKey: "forged", Direction: events.DirReport}, id, time.Now(), body))
	require.Equal(t, http.StatusUnauthorized, post(good, id, time.Now().Add(-time.Hour), body), "stale")
	require.Equal(t, http.StatusAccepted, post(good, id, time.Now(), body))
	require.Equal(t, http.StatusConflict, post(good, id, time.Now(), body), "replayed")
	require.Equal(t, events.RuleViolation, next().Event.Type, "the one accepted delivery is followed")
	require.Len(t, list("--type", "rule.violation"), 1)

	// The SEED proxy's usage reaches central as well.
	p.Stop(t) // flushes its last rollups
	require.Eventually(t, func() bool {
		rows := totalsOf(centralUsage(t, centralURL, "model", key))
		return rows["gpt-4o"].Requests == 1 && rows["gpt-4o-mini"].Requests == 1
	}, 30*time.Second, 200*time.Millisecond)
}

func eventTypes(es []storedEventJSON) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Event.Type)
	}
	return out
}
