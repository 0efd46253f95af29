// Package hostile builds misbehaving rule plugins for the hostile-plugin
// suite: hand-written WebAssembly modules, each with its WAT equivalent in
// a comment.
//
// Why a binary encoder instead of WAT text: no WAT assembler is available
// as a Go module here (the module proxy lists none; wabt's wat2wasm is not a
// Go module and the suite must build with the Go toolchain alone), and the
// modules need only a dozen instructions, so they are encoded directly.
package hostile
