// Package syncer is the proxy side of central sync. It mirrors the central
// server's tokens into the proxy's own bbolt file and its signed plugins
// into plugins.dir, so a proxy restarted while the central server is down
// still serves what it last knew.
//
// # Tokens
//
// A pull asks the central server for the change feed after the local
// revision (GET /api/v1/tokens?since=N) and writes it with store.Apply; the
// proxy's token cache follows through store.SubscribeBatch, so a revocation is
// refused by the next request. A 410 resync_required (the central server
// pruned tombstones, or was restored to an older revision) triggers a full
// fetch written with store.Replace. A local revision of 0 is always a full
// fetch.
//
// # When pulls happen
//
// At Start (bounded by a short wait, so an unreachable central server only
// delays startup briefly), every remote.sync seconds, and on every verified
// push to the webhook receiver. Pushes are coalesced through a one-slot
// channel: a push that arrives during a pull schedules exactly one more
// pull, which starts after it, so the last push is never lost and a burst
// costs at most two pulls. After a failure the next try backs off
// exponentially from one second up to the poll interval (at most a
// minute). A push ends that wait when the failure was reaching the central
// server (the push shows it is back); while the local file cannot be
// written, pushes start at most one pull per 200 ms.
//
// # When the disk fails
//
// A pull whose changes cannot be written (a full disk, an I/O error) still
// applies its deletions, and new expiries of tokens it holds, to the
// proxy's memory through store.Publish, so a revocation holds even then; NotReady reports the failure, which /ready
// answers with 503 and the reason, until a write succeeds. A token cache
// subscribed with store.SubscribeBatch receives each pull as one batch.
//
// # Plugins
//
// A pull also lists the plugin registry. Each manifest must verify against
// plugins.trusted_keys (any of them), state an ABI this build runs and ask
// for no more than the rule host grants. Per plugin name the syncer keeps
// one active version, the highest that verifies, and a floor: the highest
// version it ever accepted. A manifest below the floor is a rollback and is
// refused, even after a restart (the floor is persisted). The binary is
// fetched, checked against the manifest's sha256 and size, and written to
// plugins.dir as <sha256>.wasm; only then does the new version become
// active. Until then, and whenever a fetch or check fails, the last good
// version stays active.
//
// Resolve serves the proxy's wasm rules: it returns a binary only when the
// policy's sha256 is the active verified version of that name, re-checking
// the file's digest on every call. Failure policy: a rule naming a plugin
// that is missing, unverified, deleted on the central server or pinned to
// another version does not compile, and the proxy refuses that token's
// requests (fail closed) until the plugin arrives. When a plugin becomes
// active or is withdrawn, the tokens whose policies name it are re-applied
// to the store at their own revisions, so the proxy recompiles them without
// a restart.
//
// # Webhook receiver
//
// WebhookHandler verifies pushes with core/events (signature over
// timestamp.body, secret, skew window, replayed ids) and answers with
// events.StatusFor: 401 for a forged or stale push, 409 for a replay. A
// verified push only triggers a pull, and not even that when its revision
// is already held.
package syncer
