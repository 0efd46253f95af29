//go:build !linux

package store

import "go.etcd.io/bbolt"

// releasePages is Linux-only (see release_linux.go).
func (db *DB) releasePages() {}

func (db *DB) releasePagesTx(*bbolt.Tx) {}
