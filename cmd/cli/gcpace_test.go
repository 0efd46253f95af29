package cli

import (
	"runtime/debug"
	"testing"
)

func TestPaceCollector(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })

	t.Setenv("GOGC", "")
	if got := paceCollector(); got != serveGCPercent {
		t.Fatalf("GOGC empty: %d in effect, want %d", got, serveGCPercent)
	}
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Fatalf("GOGC empty: runtime has %d, want %d", got, serveGCPercent)
	}

	// The operator's GOGC wins: here the runtime holds 80 as if GOGC=80
	// had been read at start.
	t.Setenv("GOGC", "80")
	debug.SetGCPercent(80)
	if got := paceCollector(); got != 80 {
		t.Fatalf("GOGC=80: %d in effect", got)
	}
	if got := debug.SetGCPercent(100); got != 80 {
		t.Fatalf("GOGC=80: runtime has %d", got)
	}
}
