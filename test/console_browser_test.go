package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestConsoleBrowser drives the operators' console in headless Chromium
// against real binaries (a central server, two proxies pushing usage to it,
// a fake provider): sign in, create a contractor token from the template
// (with live validation), watch its first request's usage appear, revoke it
// and watch both proxies confirm, upload a signed plugin, and see a forged
// form post without the CSRF token refused. Every page is written to
// bin/console-screenshots/.
func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)

	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv()
	cport := freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", cport)
	pports := []int{freePort(t), freePort(t)}
	var hooks []string
	for _, p := range pports {
		hooks = append(hooks, fmt.Sprintf("http://127.0.0.1:%d/v1/webhook", p))
	}
	cdir := newCentralDir(t, centralSetup{fakeURL: fake.URL(), webhooks: hooks})
	consoleCentral(t, cdir)
	startRemote(t, cdir, cport, env, "--allow-unsigned-plugins")
	var proxies []string
	for _, port := range pports {
		dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port,
			extra: syncedProxy(centralURL, 300, true) + consoleProxyEvents(centralURL)})
		p := startServe(t, dir, port, env)
		pxNoRace(t, p)
		proxies = append(proxies, p.URL)
	}
	ui := centralURL + "/ui"

	t.Run("headers", func(t *testing.T) {
		resp, err := centralClient.Get(ui + "/signin")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		csp := resp.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self'")
		assert.NotContains(t, csp, "unsafe-inline")
		assert.Contains(t, csp, "frame-ancestors 'none'")
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		// A page behind sign-in sends a stranger to the sign-in page.
		noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err = noRedirect.Get(ui + "/tokens")
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/ui/signin"), resp.Header.Get("Location"))
	})

	// Sign in.
	b.do(t, "opening the console", chromedp.Navigate(ui+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.screenshot(t, "signin")
	b.do(t, "signing in",
		chromedp.SendKeys(chromedp.CSS("#name"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#key"), centralKey),
		chromedp.Submit(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#new-token")))
	b.screenshot(t, "tokens-empty")

	// Create a contractor token from the template; the form checks the
	// policy as it is typed, with the CLI's field paths.
	b.do(t, "opening the create form", chromedp.Click(chromedp.CSS("#new-token")), chromedp.WaitVisible(chromedp.CSS("#create-form")))
	assert.Contains(t, b.waitLive(t), "The policy is valid", "the contractor template is valid")
	tmpl := get(t, b, "reading the template", chromedp.Value(chromedp.CSS("#policy")))
	assert.Contains(t, tmpl, `"role": "contractor"`)
	b.do(t, "breaking the policy", script(`(function(){const a=document.getElementById("policy");
		const p=JSON.parse(a.value); p.rules[0].action="explode"; p.max_tokens=-5;
		a.value=JSON.stringify(p,null,2); a.dispatchEvent(new Event("input")); return true})()`))
	live := b.waitLiveContains(t, "rules[0].action")
	assert.Contains(t, live, "max_tokens", "every field problem is listed")
	b.screenshot(t, "token-new-invalid")
	b.do(t, "restoring the template", script(fmt.Sprintf(`(function(){const a=document.getElementById("policy");
		a.value=%q; a.dispatchEvent(new Event("input")); return true})()`, tmpl)))
	assert.Contains(t, b.waitLiveContains(t, "The policy is valid"), "valid")
	b.screenshot(t, "token-new-contractor")
	b.do(t, "creating the token", chromedp.Click(chromedp.CSS("#create")), chromedp.WaitVisible(chromedp.CSS("#new-token-value")))
	tok := get(t, b, "reading the token", chromedp.Value(chromedp.CSS("#new-token-value")))
	prefix := b.text(t, "#created-prefix")
	require.True(t, strings.HasPrefix(tok, "tkn_"), "the new token is shown once: %q", tok)
	b.screenshot(t, "token-created")

	// Its first request, through proxy 0: the usage the proxy reports
	// appears on the token's page.
	waitAll(t, proxies[:1], tok, "hello", 200, 10*time.Second)
	b.do(t, "opening the token page", chromedp.Click(chromedp.CSS("#open-token")), chromedp.WaitVisible(chromedp.CSS("#budgets")))
	tokenURL := get(t, b, "location", chromedp.Location())
	// The central server keeps the proxies' usage rollups (bbolt storage):
	// the page reads spend from them.
	b.waitText(t, tokenURL, "#usage-requests", "1", 30*time.Second)
	assert.Contains(t, b.text(t, "#spend-source"), "usage rollups")
	tokens := b.text(t, "#usage-tokens")
	assert.NotEqual(t, "0", strings.TrimSpace(tokens), "the request's tokens are counted")
	budgets := b.text(t, "#budgets")
	assert.Contains(t, budgets, "whole token")
	assert.Contains(t, budgets, "requests per 1m")
	// A refused request (the contractor's keyword rule) shows among the
	// token's recent refusals, from central's event inbox.
	assert.Equal(t, 403, chatStatus(t, proxies[1], tok, "explain how to jailbreak this model"))
	b.waitText(t, tokenURL, "#refusals", "rule.violation", 30*time.Second)
	b.screenshot(t, "token-page")
	b.do(t, "listing tokens", chromedp.Navigate(ui+"/tokens?role=contractor&usage=used"), chromedp.WaitVisible(chromedp.CSS("#token-table")))
	assert.Contains(t, b.text(t, "#token-table"), prefix, "search by role and usage finds the token")
	b.screenshot(t, "tokens-filtered")

	// A merge patch, previewed as a diff, then applied.
	b.do(t, "patching",
		chromedp.Navigate(tokenURL+"/edit"), chromedp.WaitVisible(chromedp.CSS("#patch-form")),
		chromedp.SetValue(chromedp.CSS("#patch"), `{"max_tokens": 60000, "metadata": {"team": "partners"}}`),
		chromedp.Click(chromedp.CSS("#preview")), chromedp.WaitVisible(chromedp.CSS("#diff")))
	diff := b.text(t, "#diff")
	assert.Contains(t, diff, `-   "max_tokens": 50000`)
	assert.Contains(t, diff, `+   "max_tokens": 60000`)
	b.screenshot(t, "token-patch-preview")
	b.do(t, "applying the patch", chromedp.Click(chromedp.CSS("#apply")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	assert.Contains(t, b.text(t, "#policy-json"), `"max_tokens": 60000`)

	// A forged form post without the CSRF token is refused, and so is one
	// with a wrong token; neither creates a token.
	for _, body := range []string{"policy=%7B%7D&expires=30d", "policy=%7B%7D&expires=30d&csrf=forged"} {
		status := b.fetchStatus(t, "/ui/tokens", body)
		assert.Equal(t, http.StatusForbidden, status, "forged post %q", body)
	}
	status := b.fetchStatus(t, tokenURL[len(centralURL):]+"/revoke", "")
	assert.Equal(t, http.StatusForbidden, status, "a forged revocation is refused")
	b.do(t, "forging a form", script(fmt.Sprintf(`(function(){const f=document.createElement("form");
		f.method="post"; f.action=%q; document.body.appendChild(f); f.submit(); return true})()`, tokenURL+"/revoke")),
		chromedp.WaitVisible(chromedp.CSS("#page-error")))
	assert.Contains(t, b.text(t, "#page-error"), "did not come from the console")
	b.screenshot(t, "forged-post-refused")
	for _, p := range proxies {
		assert.Equal(t, 200, chatStatus(t, p, tok, "still here?"), "the forged revocation changed nothing")
	}

	// Upload a signed plugin.
	op := t.TempDir()
	keygen(t, op, "signing.key")
	wasm, err := os.ReadFile(filepath.Join("..", "plugins", "dist", "builtin.wasm"))
	require.NoError(t, err, "make build builds plugins/dist")
	require.NoError(t, os.WriteFile(filepath.Join(op, "kw.wasm"), wasm, 0o644))
	res := run(t, op, nil, "plugin", "sign", "kw.wasm", "--key", "signing.key", "--name", "console-keyword", "--version", "1.0.0")
	require.Equal(t, 0, res.code, res.stderr)
	b.do(t, "uploading a plugin",
		chromedp.Navigate(ui+"/plugins"), chromedp.WaitVisible(chromedp.CSS("#upload-form")),
		chromedp.SetUploadFiles(chromedp.CSS("#wasm"), []string{filepath.Join(op, "kw.wasm")}),
		chromedp.SetUploadFiles(chromedp.CSS("#manifest"), []string{filepath.Join(op, "kw.wasm.manifest.json")}),
		chromedp.Click(chromedp.CSS("#upload")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	assert.Contains(t, b.text(t, ".flash"), "Uploaded console-keyword 1.0.0")
	assert.Contains(t, b.text(t, "#plugin-table"), "console-keyword")
	b.screenshot(t, "plugins")

	// Usage and events pages, for review.
	b.do(t, "usage", chromedp.Navigate(ui+"/usage?by=token&range=1h"), chromedp.WaitVisible(chromedp.CSS("figure.chart")))
	usage := b.text(t, "main")
	assert.Contains(t, usage, prefix, "the token has a usage chart")
	b.screenshot(t, "usage")
	b.do(t, "usage by model", chromedp.Navigate(ui+"/usage?by=model&range=24h"), chromedp.WaitVisible(chromedp.CSS("figure.chart")))
	b.screenshot(t, "usage-by-model")
	b.do(t, "events", chromedp.Navigate(ui+"/events"), chromedp.WaitVisible(chromedp.CSS("#events-table")))
	assert.Contains(t, b.text(t, "#events-table"), "request.completed")
	b.screenshot(t, "events")
	// CSV export carries the request.
	csv := b.fetchText(t, "/ui/usage.csv?by=token&range=1h")
	assert.True(t, strings.HasPrefix(csv, "bucket_start,bucket_seconds,token,requests,tokens"), csv)
	assert.Contains(t, csv, ","+prefix+",")

	// Revoke, with confirmation; the fleet page shows both proxies apply it.
	b.do(t, "opening the revocation", chromedp.Navigate(tokenURL), chromedp.WaitVisible(chromedp.CSS("#revoke")),
		chromedp.Click(chromedp.CSS("#revoke")), chromedp.WaitVisible(chromedp.CSS("#confirm-revoke")))
	b.screenshot(t, "token-revoke-confirm")
	revoked := time.Now()
	b.do(t, "revoking", chromedp.Click(chromedp.CSS("#confirm-revoke")), chromedp.WaitVisible(chromedp.CSS("#watch")))
	watchURL := get(t, b, "location", chromedp.Location())
	b.waitText(t, watchURL, "#watch-status", "Applied on all 2 proxies", 30*time.Second)
	t.Logf("revoke clicked → the fleet page shows both proxies applied it: %s", time.Since(revoked).Round(time.Millisecond))
	b.screenshot(t, "fleet-revocation-applied")
	for i, p := range proxies {
		assert.Equal(t, 401, chatStatus(t, p, tok, "hello"), "proxy %d still accepts the revoked token", i)
	}

	// The fleet and the audit log, which names who did what.
	b.do(t, "fleet", chromedp.Navigate(ui+"/fleet"), chromedp.WaitVisible(chromedp.CSS("#fleet-table")))
	b.screenshot(t, "fleet")
	b.do(t, "audit", chromedp.Navigate(ui+"/audit"), chromedp.WaitVisible(chromedp.CSS("#audit-table")))
	audit := b.text(t, "#audit-table")
	for _, want := range []string{"alice", "token.create", "token.update", "token.revoke", "plugin.upload", prefix} {
		assert.Contains(t, audit, want)
	}
	b.screenshot(t, "audit")

}

// script is an action that runs JavaScript for its effect.
func script(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](js)(ctx, tg)
		return err
	})
}

// waitLive waits for the live validation's first answer and returns it.
func (b *browser) waitLive(t *testing.T) string {
	t.Helper()
	b.do(t, "waiting for live validation", chromedp.WaitVisible(chromedp.CSS("#policy-problems ul")))
	return b.text(t, "#policy-problems")
}

// waitLiveContains waits until the live validation shows want.
func (b *browser) waitLiveContains(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := get(t, b, "reading live validation", chromedp.Evaluate[string](`document.getElementById("policy-problems").textContent`))
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("live validation shows %q, want %q", s, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fetchStatus POSTs a form body from the signed-in page (same origin, with
// the session cookie, without the page's CSRF token) and returns the
// status.
func (b *browser) fetchStatus(t *testing.T, path, body string) int {
	t.Helper()
	return get(t, b, "forging "+path, chromedp.Evaluate[int](fmt.Sprintf(`fetch(%q, {method: "POST", credentials: "same-origin",
		headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: %q}).then(r => r.status)`, path, body), chromedp.EvalAwaitPromise))
}

func (b *browser) fetchText(t *testing.T, path string) string {
	t.Helper()
	return get(t, b, "fetching "+path, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q, {credentials: "same-origin"}).then(r => r.text())`, path), chromedp.EvalAwaitPromise))
}
