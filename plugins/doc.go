// Package plugins embeds the built-in rule plugins (pii, regex, keyword,
// prompt_guard) as data. Each subdirectory is a Go main package importing
// only sdk; `make plugins` (plugins.mk) builds them with GOOS=wasip1
// GOARCH=wasm -buildmode=c-shared into dist/<name>.wasm, which this package
// embeds. Build them before `go build` or `go test`; without them the FS
// holds only dist/README.md and the host reports the missing plugin.
//
// Only cmd imports this package (core never imports plugins): it hands FS to
// core/rules through rules.Config.Builtins.
package plugins
