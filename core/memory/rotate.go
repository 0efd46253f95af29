package memory

import (
	"compress/gzip"
	"fmt"
	"io"
	"time"
)

// rotate closes a file that grew past its limit and renames it with a
// timestamp suffix (name.20261207T101500Z); with compress the renamed copy
// is gzipped (name.…Z.gz) and removed. The next entry opens a fresh file.
// Renames and opens are relative to the file's directory descriptor and
// follow no link.
func (w *Writer) rotate(path string, of *openFile, compress bool) {
	if err := of.w.Flush(); err != nil {
		w.log.Warn("flushing memory file", "path", path, "error", err)
	}
	_ = of.f.Close()
	delete(w.files, path)
	defer closeDir(of.dir)
	old := of.name + "." + time.Now().UTC().Format("20060102T150405.000000000Z")
	if err := renameIn(of.dir, of.name, old); err != nil {
		w.log.Warn("rotating memory file", "path", path, "error", err)
		return
	}
	if !compress {
		return
	}
	if err := gzipIn(of.dir, old); err != nil {
		w.log.Warn("compressing rotated memory file", "path", path, "error", err)
	}
}

func gzipIn(d dirHandle, name string) error {
	src, err := openIn(d, name, false)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openIn(d, name+".gz", true)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(dst)
	_, err = io.Copy(zw, src)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = removeIn(d, name+".gz")
		return fmt.Errorf("gzip %s: %w", name, err)
	}
	return removeIn(d, name)
}
