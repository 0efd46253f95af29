package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath finds Debian's Chromium ($TOKENOMICS_CHROMIUM first); ""
// when it is not installed.
func chromiumPath() string {
	if p := os.Getenv("TOKENOMICS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is a headless Chromium driven over the DevTools protocol.
type browser struct {
	ctx     context.Context
	shots   string
	shotNum int
}

// newBrowser starts a headless Chromium with its own profile, closed
// when the test ends; it skips the test when Chromium is not installed.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		t.Skip("Chromium is not installed: apt-get install -y chromium, then make test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900), // a laptop screen
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	// Start the browser now (without a deadline: one on the first call
	// would bound the browser's whole life).
	require.NoError(t, chromedp.Do(ctx), "starting %s", exe)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	shots, err := filepath.Abs(filepath.Join("..", "bin", "console-screenshots"))
	require.NoError(t, err)
	// Only this run's pages: a page the run no longer reaches must not
	// linger from an earlier one.
	require.NoError(t, os.RemoveAll(shots))
	require.NoError(t, os.MkdirAll(shots, 0o755))
	return &browser{ctx: ctx, shots: shots}
}

// do runs steps with a generous deadline (a loaded machine renders
// slowly).
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.dump(t)
		t.Fatalf("%s: %v", what, err)
	}
}

// dump logs where the browser is and what the page says, for a failure.
func (b *browser) dump(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	t.Logf("browser at %s:\n%s", loc, text)
}

// get runs one action that returns a value, with do's deadline.
func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err, what)
	return v
}

// text returns the text of the first node matching the CSS selector sel.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	return get(t, b, "reading "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// screenshot checks the page (checkPage) and writes it to
// bin/console-screenshots/NN-name.png.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	b.checkPage(t, name)
	png := get(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	b.shotNum++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.shotNum, name))
	require.NoError(t, os.WriteFile(path, png, 0o644))
}

// waitText reloads url until the text of sel contains want, or fails
// after limit.
func (b *browser) waitText(t *testing.T, url, sel, want string, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
		if err == nil {
			last, err = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
		}
		cancel()
		if err == nil && strings.Contains(last, want) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %s on %s reads %q (error %v), want it to contain %q", limit, sel, url, last, err, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// consoleCentral appends the console's settings to a central server's
// config.yaml.
func consoleCentral(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("console:\n  idle_timeout: 10m\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// consoleProxyEvents is the config of a proxy that reports to the central
// server at centralURL: usage rollups every second, and its events to
// central's inbox, signed with the fleet's shared webhook credentials.
func consoleProxyEvents(centralURL string) string {
	return fmt.Sprintf("usage:\n  interval: 1s\nevents:\n  webhooks:\n    - url: %s/webhook\n      secret: %s\n      signing_key: %s\n      events: [\"request.completed\", \"budget.*\", \"rate.*\", \"rule.*\"]\n      timeout: 5\n",
		centralURL, centralSecret, centralSigning)
}

// checkPage fails when the page renders the central API key, or has a form
// control without a label or a page without a language and a main landmark.
func (b *browser) checkPage(t *testing.T, name string) {
	t.Helper()
	html := get(t, b, "reading the page", chromedp.OuterHTML(chromedp.CSS("html")))
	assert.NotContains(t, html, centralKey, "%s: the API key is never rendered", name)
	unlabelled := get(t, b, "checking labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll(
		"input:not([type=hidden]), select, textarea")].filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")).map(e => e.outerHTML)`))
	assert.Empty(t, unlabelled, "%s: every form control has a label", name)
	ok := get(t, b, "checking landmarks", chromedp.Evaluate[bool](`document.documentElement.lang === "en" && !!document.querySelector("main h1")`))
	assert.True(t, ok, "%s: a language and a main landmark with a heading", name)
}
