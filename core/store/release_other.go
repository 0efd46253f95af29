//go:build !linux

package store

// releasePages is Linux-only (see release_linux.go).
func (db *DB) releasePages() {}
