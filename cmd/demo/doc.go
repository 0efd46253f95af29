// Command demo runs the whole system on loopback and walks an operator
// through what it does: a fake provider (in this process), a central server
// and a proxy (the real binary, set up by examples/distributed-team/setup.sh),
// the four role tokens, and a series of requests that show allowed calls,
// streaming, PII masking, a blocked prompt injection, a model outside the
// policy, a rate limit, a fallback after an upstream 503, a budget running
// out and a token revoked on the central server. It cleans up after itself
// and exits 0 only if every step behaved as shown.
//
//	make demo            # or: go run ./cmd/demo -bin bin/tokenomics
package main
