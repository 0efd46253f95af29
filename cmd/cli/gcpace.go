package cli

import (
	"os"
	"runtime/debug"
)

// serveGCPercent is serve's heap growth between collections when GOGC is
// not set: the heap may grow to 1.5× what is live instead of the runtime's
// 2×. serve's live heap is small (the token table, the decoded rule module,
// one set of buffers per request in flight) and its request path allocates
// little, so collecting twice as often costs about 1 % of a core under
// load (docs/BENCHMARKS.md, session 6) and keeps ~8 MB less resident at
// 128 connections.
const serveGCPercent = 50

// paceCollector applies serveGCPercent unless the operator set GOGC, which
// the runtime has already read and which wins. GOMEMLIMIT works on top of
// either, as in any Go program. It returns the percentage in effect.
func paceCollector() int {
	if v, set := os.LookupEnv("GOGC"); set && v != "" {
		p := debug.SetGCPercent(-1) // read the value the runtime took from GOGC
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(serveGCPercent)
	return serveGCPercent
}
