package rules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildPlugin compiles the Go plugin in dir (a main package using sdk) to
// the module out with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared, trimmed
// paths and no symbol table, as plugins/plugins.mk builds the built-ins (a
// smaller module compiles faster on every proxy, and the same sources give
// the same sha256 on any machine). It needs the go command on PATH; its
// output is in the error on failure.
func BuildPlugin(ctx context.Context, dir, out string) error {
	return buildPlugin(ctx, dir, out, "")
}

// buildPlugin is BuildPlugin with build tags (plugins.mk builds the
// built-in module with sdk_nojson).
func buildPlugin(ctx context.Context, dir, out, tags string) error {
	absOut, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("resolving output %q: %w", out, err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s", "-tags="+tags, "-o", absOut, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building plugin in %q: %w\n%s", dir, err, bytes.TrimSpace(buf.Bytes()))
	}
	return nil
}
