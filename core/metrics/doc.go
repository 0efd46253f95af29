// Package metrics is a small Prometheus text-format registry built for the
// request hot path: counters, gauges and histograms are atomics, label
// lookups take a read lock on a map keyed by a fixed-size array (no
// allocation once a label set exists), and callers that know their labels
// up front keep the resolved series. Only what the proxy needs is here; the
// exposition is the text format 0.0.4 that every Prometheus scraper reads.
package metrics
