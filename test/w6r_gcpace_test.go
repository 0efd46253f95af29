package test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// gcLine is one line of GODEBUG=gctrace=1: "gc 4 @1.2s 0%: ... (forced)"
// for a collection the program asked for.
var gcLine = regexp.MustCompile(`(?m)^gc \d+ @[^\n]*$`)

// automaticGCs counts the collections the pacer started (not forced).
func automaticGCs(logs string) int {
	n := 0
	for _, l := range gcLine.FindAllString(logs, -1) {
		if !strings.HasSuffix(strings.TrimSpace(l), "(forced)") {
			n++
		}
	}
	return n
}

// TestW6rServeGCKnobsWin: serve paces the collector at GOGC=50 unless the
// operator set GOGC, and GOMEMLIMIT works on top. Each case runs the real
// binary with GODEBUG=gctrace=1 and sends requests of 256 KB each (about
// 25 MB allocated): with serve's own pacing the collector runs by itself;
// with GOGC=off it never does (only the start's forced collection); with
// GOGC=off and a GOMEMLIMIT below serve's heap it runs again.
func TestW6rServeGCKnobsWin(t *testing.T) {
	t.Parallel()
	prompt := strings.Repeat("tokenomics gc pacing ", 256<<10/21)
	for _, tc := range []struct {
		name string
		env  []string
		auto bool
	}{
		{name: "serve's pacing", auto: true},
		{name: "GOGC=off", env: []string{"GOGC=off"}, auto: false},
		{name: "GOGC=off GOMEMLIMIT=4MiB", env: []string{"GOGC=off", "GOMEMLIMIT=4MiB"}, auto: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := startFake(t, fakeupstream.Options{})
			port := freePort(t)
			dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
			env := proxyEnv()
			tok, _ := createToken(t, dir, env, `{"model_regex":"^gpt-4o","max_tokens":100000000}`)
			p := startServe(t, dir, port, append(append([]string{}, env...), append(tc.env, "GODEBUG=gctrace=1")...))
			for i := range 100 {
				r := pxPost(t, p.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", fmt.Sprintf("%d %s", i, prompt), false, ""))
				require.Equal(t, 200, r.status, "%s", r.body)
			}
			got := automaticGCs(p.Logs())
			if tc.auto {
				assert.Positive(t, got, "the collector never ran by itself:\n%s", p.Logs())
			} else {
				assert.Zero(t, got, "GOGC=off was overridden:\n%s", p.Logs())
			}
		})
	}
}
