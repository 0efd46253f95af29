// Package fleet is the shape of what proxies tell the central server about
// themselves, and the client both sides use for it.
//
// Every proxy synced from a central server posts a Report to
// POST /api/v1/fleet (bearer: the proxy's remote API key, the one its token
// pulls use) at start, right after each applied sync and as a heartbeat.
// The central server keeps the latest report per instance and serves
// GET /api/v1/fleet → Status: its own revision and, per proxy, the report
// with the time it was received and how many revisions the proxy lags.
//
// A report says which version of each plugin the proxy runs (active,
// loading or failed, with a short cause) and how many of its tokens use
// it, so `tokenomics plugin status` and the console can show a rollout or
// a revocation reaching every proxy.
//
// Reports are advisory: the central server never acts on them, and a
// proxy's sync and requests never wait on one (see core/syncer's reporter).
package fleet
