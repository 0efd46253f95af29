package plugins

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// FS holds the built plugins as "<name>.wasm" at its root.
var FS fs.FS = mustSub(dist, "dist")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // dist is a literal that exists: a build error if not
	}
	return sub
}
