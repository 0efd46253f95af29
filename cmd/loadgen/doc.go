// Command loadgen is the load benchmark behind `make bench-load`: it starts
// the fake upstream (bin/fakeupstream) and `tokenomics serve` on loopback,
// drives them with N keep-alive clients, and reports throughput, latency
// percentiles and the latency the proxy adds, then the top of the proxy's
// CPU profile.
//
//	loadgen -tokenomics bin/tokenomics -fake bin/fakeupstream -out bin/bench-load -c 32 -d 10s
//
// The runs, for each client count of -c (a comma-separated list), are a
// matrix: direct to the fake upstream, through the proxy with a token
// without rules, and through the proxy with the seed's contractor policy
// (its PII, regex and keyword rules run as WASM), first non-streamed, then
// streamed (time to first byte and full-stream latency). Unless -c1=false,
// direct and contractor run again with one client, where nothing queues.
// Each proxy run gets its own serve process (after one unprofiled start that
// fills the plugin cache), so each CPU profile (cpu-<run>.pprof in the
// output directory) and serve's peak RSS cover one workload. Each proxied
// run is compared with the direct run of its kind: throughput ratio, added
// p50/p99 and serve's peak RSS, checked against issue #17's targets. The
// results also go to results.json there. A missed target is printed as MISS
// and does not fail the command.
//
// -rounds N runs the whole matrix N times in turn. Each proxied run is
// compared with the direct run of its own round, and the figures checked
// are the medians over the rounds (the peak RSS: the highest): this VM's
// direct throughput drifts by a third between minutes, so a single pair of
// cells can be decided by the host rather than the proxy.
//
// -pin (Linux) is the setup on a 2-CPU machine: loadgen on CPU 0,
// the fake upstream and serve together on CPU 1 (sched_setaffinity; each
// child is forked from a thread on CPU 1, so it runs there from its start,
// and the kernel's CPU list of each is checked).
//
// Every latency is kept and sorted, so percentiles are exact (nearest rank).
// A run is preceded by an unmeasured warm-up of the same load.
package main
