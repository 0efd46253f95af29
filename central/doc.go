// Package central is the control plane behind `tokenomics remote`: the
// token REST API (core/tokenapi) and the plugin registry under one API key,
// and the push fan-out that tells proxies a new revision exists.
//
// # API
//
//	GET    /health                         unauthenticated, {"status":"ok"}
//	GET    /ready                          unauthenticated; 503 when the store cannot be read
//	GET    /metrics                        unauthenticated; revision and push figures per target
//	*      /api/v1/tokens...               core/tokenapi.NewHandler
//	POST   /api/v1/plugins                 manifest.Upload → 201 manifest.Entry (200 if already held)
//	GET    /api/v1/plugins[?since=N]       manifest.Listing
//	GET    /api/v1/plugins/{sha256}        the binary (application/wasm)
//	DELETE /api/v1/plugins/{sha256}        → the removed manifest.Entry
//	POST   /api/v1/fleet                   a proxy's fleet.Report → 204
//	GET    /api/v1/fleet                   fleet.Status: every proxy's latest report, last contact and lag
//
// Every /api/ request needs "Authorization: Bearer <api key>", compared in
// constant time. Errors use the OpenAI shape, {"error": {"message", "type",
// "code"}}, with the codes of core/manifest and core/tokenapi.
//
// # Registry
//
// Plugins are content-addressed by sha256 and kept in the central bbolt
// file next to the tokens, in their own bucket (see registry.go). Uploads
// must carry a signed manifest ([manifest.VerifySelfSigned]); with
// plugins.trusted_keys configured on the central server they must also be
// signed by one of those keys. A plugin's versions only go up: an upload
// older than a held version of the same name, or reusing a held version for
// another binary, is refused with 409. The registry has its own revision,
// bumped by every upload and delete; proxies poll it with ?since=N.
//
// # Push
//
// Every token change writes its push in the same bbolt transaction (a
// store.OnWrite hook calling the Noticer's NoteTx): a token.created,
// token.updated or token.deleted notice at the change's revision, which
// replaces any older notice still pending for the same target. Plugin
// changes note plugin.uploaded|deleted at the registry's revision. At
// start, AnnounceRevision notes token.sync at the current revision, so
// what a crashed run had not pushed, or what token commands changed
// offline, reaches the proxies. A push only says "revision N exists": the
// proxy verifies it and then pulls. Handlers never let a panic escape: it
// is logged at ERROR with the request id and answered with a 500.
package central
