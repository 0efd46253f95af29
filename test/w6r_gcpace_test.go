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

// gcStart opens one collection's GODEBUG=gctrace=1 report: "gc 4 @1.2s
// 0%: ... (forced)" for a collection the program asked for. The runtime
// writes a report in several pieces, so serve's log lines can land inside
// one: a report runs from its "gc N @" to the next one.
var gcStart = regexp.MustCompile(`gc \d+ @\d`)

// automaticGCs counts the collections the pacer started (not forced).
func automaticGCs(logs string) int {
	starts := gcStart.FindAllStringIndex(logs, -1)
	n := 0
	for i, st := range starts {
		end := len(logs)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		if !strings.Contains(logs[st[0]:end], "(forced)") {
			n++
		}
	}
	return n
}

func TestAutomaticGCsInterleaved(t *testing.T) {
	logs := "gc 1 @0.048s 1%: 0.15+5.1+0.028 ms clock, 0.31+0" +
		"2026-12-08T00:55:11.598Z [INFO]  tokenomics.tokenapi: local admin listening\n" +
		"/2.0/4.5+0.056 ms cpu, 2->3->1 MB, 8532210231535 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)\n" +
		"2026-12-08T00:55:11.598Z [INFO]  tokenomics: listening\n" +
		"gc 2 @1.5s 0%: 0.1+2+0.01 ms clock, 0.1+1/2/0+0.01 ms cpu, 25->25->14 MB, 28 MB goal, 0 MB stacks, 0 MB globals, 1 P\n"
	assert.Equal(t, 1, automaticGCs(logs))
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
