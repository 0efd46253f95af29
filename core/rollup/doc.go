// Package rollup counts what a proxy served, per token, model, provider and
// minute, and carries those counts to the central server.
//
// A proxy records every finished request and every refusal in an
// [Aggregator] (a mutex and a map whose entries are reused, so the request
// path does not allocate once a key has been seen). A [Shipper] drains the
// aggregator on an interval into a [Batch] whose id is the proxy's instance
// id and a sequence number kept in the proxy's bbolt file; the batch is
// written to the local [Store] (for offline reports) and to a durable
// outbox in the same transaction, and sent to central's POST /api/v1/usage
// until central acknowledges it. A batch survives a restart of the proxy,
// and central stores each batch id once, so a batch retried after a lost
// acknowledgement is not counted twice.
//
// Central keeps the rows behind the narrow [Store] interface ([BoltStore]
// here; a PostgreSQL implementation can follow): Add a batch idempotently,
// Query rows since a time, Prune rows older than the retention.
//
// Token counts follow the provider's usage: input_tokens is the whole
// prompt with cached_input_tokens the cached part of it, output_tokens the
// whole completion with reasoning_tokens the reasoning part of it.
// cost_micros is the request's cost in micro-dollars when the proxy knows
// prices, 0 otherwise.
package rollup
