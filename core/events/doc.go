// Package events defines the events Tokenomics emits, signs them, and
// delivers them to webhook endpoints with retries; it also verifies them on
// the receiving side.
//
// # Events
//
// An [Event] is a small JSON object:
//
//	{"id":"9f0c…","type":"token.updated","time":"2025-01-02T03:04:05Z",
//	 "source":"central","revision":42,"data":{"token_hash_prefix":"a1b2c3d4"}}
//
// IDs are 128 random bits in lowercase hex ([NewID]). Data never holds a
// token, a provider key, a webhook secret or any other secret: tokens are
// named by the first [HashPrefixLen] characters of their stored hash (see
// [HashPrefix]), which is what the logs show too. The payload types in
// payload.go are the shapes emitters should use.
//
// # Wire protocol
//
// A delivery is an HTTP POST whose body is the event JSON, with these headers:
//
//	Content-Type:           application/json
//	X-Tokenomics-Event-Id:  <event id, same as the body's "id">
//	X-Tokenomics-Timestamp: <unix seconds when this attempt was signed>
//	X-Tokenomics-Signature: v1=<hex HMAC-SHA256(signing_key, timestamp + "." + body)>
//	X-Tokenomics-Secret:    <the shared secret>
//
// The signature base string is the decimal timestamp exactly as sent in the
// header, one "." and the raw body bytes. Every attempt is signed afresh with
// the current time, so a retry hours later still passes the skew check; the
// event id stays the same across attempts. The signature header may carry
// several comma-separated entries ("v1=…,v1=…") so a sender can sign with an
// old and a new key during a rotation; unknown schemes are ignored.
//
// Between Tokenomics's own servers the two directions are kept apart
// ([Direction]): central's deliveries add a second v1 entry signed with
// DirectionKey(signing_key, DirPush), a proxy's one with DirReport, and a
// proxy's push receiver and central's event inbox accept only the entry of
// their direction, so one key shared by the whole fleet cannot make a
// captured push pass as a proxy's event or the reverse. Other receivers
// check the plain entry, which every delivery keeps.
//
// The Signature header is sent when the target has a signing_key, the Secret
// header when it has a secret: the seed's two fields keep their meaning. A
// receiver ([Verifier]) with a signing key requires a valid signature; with a
// secret it also requires the secret header to match (compared in constant
// time). A receiver configured with a secret and no signing key accepts the
// secret header alone. That mode is weaker: the secret travels with every
// request, so anyone who sees one request can forge any later one, and the
// body and timestamp are not bound to anything. Use it only over TLS, and
// prefer a signing key. A receiver with a signing key never accepts a
// secret-only request.
//
// A receiver also rejects:
//   - a timestamp more than MaxSkew (default 5 minutes) away from its own
//     clock, in either direction (ErrStale);
//   - an event id it has already accepted within that window (ErrReplay). Ids
//     are remembered until timestamp+MaxSkew, after which a replay would be
//     stale anyway; the set is bounded, and when full the entry closest to
//     expiry is forgotten first;
//   - an id header that differs from the body's "id": the id header is not
//     covered by the signature, so binding it to the signed body stops an
//     attacker from replaying a captured request under a fresh id.
//
// Delivery is at least once: a receiver that accepted an event but whose
// answer was lost sees the retry as a replay and answers 409, which the
// [Dispatcher] counts as delivered. Receivers must treat events as hints
// that are safe to see twice (central pushes only say "revision N exists").
//
// # Status codes
//
// [NewReceiverHandler] answers 202 when accepted, 401 for a missing or wrong
// signature or secret and for a stale timestamp, 409 for a replay, 400 for a
// malformed header or body, 405 for a method other than POST and 413 for a
// body over 1 MiB. The Dispatcher retries 408, 429 and 5xx (honouring
// Retry-After) and network errors; it treats other 4xx and 3xx as final and
// does not follow redirects, so the secret header never reaches another host.
//
// # Delivery
//
// A [Dispatcher] takes events from [Dispatcher.Emit], which never blocks,
// fans each one out to the targets whose filter ([Match]) wants it, and
// delivers with exponential backoff and jitter. Each target has its own
// workers, so a dead endpoint delays only itself. With a bbolt database the
// outbox is durable: every (event, target) delivery is written before its
// first attempt and removed once it is done, and [Dispatcher.Start] resumes
// what a previous run left behind. [Dispatcher.EmitTx] writes the deliveries
// inside the caller's own write transaction (a transactional outbox), so a
// token change and its event commit together. Without a database (proxies'
// alert events) the outbox lives in memory and a full queue drops its oldest
// entry.
//
// # Notices
//
// A [Notifier] is for pushes that only announce a revision ("tokens are at
// R"): per target and feed (the event type's prefix) it keeps just the
// newest undelivered notice, in bbolt, written by [Notifier.NoteTx] inside
// the transaction of the change it announces. Whatever number of changes
// pile up while a delivery is in flight, the next delivery is the newest
// one; a crash before delivery loses nothing ([Notifier.Start] sends what
// is pending). Failed deliveries back off; a new notice cuts a long pause
// to BaseDelay after the last attempt.
//
// # TLS
//
// Each target has its own transport: Target.CAFile adds a PEM CA to the
// system roots (read on connect and again when it changes, so it may appear
// after start), Target.Insecure skips verification. A failed certificate
// check is logged once per failure streak with a WARN that names ca_file.
package events
