// Package plugins embeds the built-in rule plugins as data. The plugins of
// the built-in rule types (pii, regex, keyword, prompt_guard) are packages
// importing only sdk; plugins/builtin, a Go main package, registers them all
// by type in one module, so the host compiles one module and keeps one pool
// of instances for every built-in rule. `make plugins` (plugins.mk) builds it
// with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared into dist/builtin.wasm,
// which this package embeds. Build it before `go build` or `go test`;
// without it the FS holds only dist/README.md and the host reports the
// missing module.
//
// Only cmd imports this package (core never imports plugins): it hands FS to
// core/rules through rules.Config.Builtins.
package plugins
