// Command builtin is the one module behind every built-in rule type: it
// registers the plugins of plugins/pii, regex, keyword and promptguard by
// type (sdk.RegisterType), and the host names the type in each rule's
// configuration. One module instead of one per type means the host compiles
// one module and keeps one pool of warm instances for every built-in rule
// of every policy: each Go-built module costs MBs of compiled code and each
// instance MiBs of linear memory (RATIONALE.md, "WASM rules";
// docs/BENCHMARKS.md has the figures).
//
// `make plugins` (plugins.mk) builds it into plugins/dist/builtin.wasm with
// the tag sdk_nojson: the host configures built-in rules with abi fields,
// not JSON, so encoding/json, fmt and os stay out of the module.
package main
