// Package benchdata holds the contractor workload that the load benchmark
// (cmd/loadgen) sends and the in-process contractor benchmarks
// (core/proxy) replay, so both measure the same request and the same rules.
package benchdata
