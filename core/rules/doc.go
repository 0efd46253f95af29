// Package rules is the content-rule engine: a wazero host that runs the
// policy's rules as WebAssembly plugins and turns their results into a
// Verdict (allow, mask with span edits, block) plus findings.
//
// Lifecycle: New, Provision, then Compile one RuleSet per policy (off the
// request path), Check per request or NewStream per streamed response, and
// Close at shutdown.
//
//	h := rules.New(rules.Config{Builtins: plugins.FS, CacheDir: dir}, logger)
//	if err := h.Provision(ctx); err != nil { ... }
//	defer h.Close(ctx)
//	rs, err := h.Compile(pol.Rules, fetchCustomPlugin)
//	var v rules.Verdict
//	err = rs.Check(ctx, rules.Input, texts, &v)
//
// Modules are compiled once per sha256 (with wazero's on-disk cache) and
// served from a bounded pool of warm instances that idle pools trim; a
// request never instantiates. Every built-in rule type runs on one module
// (Config.Builtins' builtin.wasm), told the type with each configuration,
// so all built-in rules share one compile and one pool. Guest memories live
// outside the Go heap where the platform allows (linmem.go).
// Guests get no filesystem, network, environment or arguments, a memory cap
// and a per-call deadline. Built-in plugins run on a runtime without
// termination checks (they are ours and bounded by their input); custom
// plugins run on a runtime with them, stopped by a watchdog. RATIONALE.md
// ("WASM rules") has the measurements behind this; docs/PLUGINS.md the ABI.
package rules
