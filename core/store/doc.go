// Package store keeps tokens and their policies in a bbolt file.
//
// A token is never stored: records are keyed by the hex HMAC-SHA256 of the
// token under the operator's hash key (see Hasher), so a copy of the database
// file yields no usable token. With an encryption key, each policy and each
// record is sealed with AES-256-GCM bound to its key, so a ciphertext moved
// to another record or policy does not decrypt.
//
// Each policy is stored once, under a keyed hash of its bytes, with a count
// of the records naming it (policies.go): ten thousand tokens of forty role
// policies hold forty policies. Each walks the records one at a time, those
// of one policy sharing its bytes, so a proxy's start never holds them all.
//
// Every change bumps one revision counter in the same transaction; deletes
// leave tombstones, and a changes index keyed by revision makes
// Changes(since) a cursor seek. The central server serves Changes to
// proxies, which persist what they fetched with Apply (or Replace after a
// full resync) into their own file.
//
// bbolt never shrinks its file: a writable Open that finds most of it free
// (after a schema 1 conversion, or mass deletes) rewrites it compactly
// beside itself and renames the copy over it (compact.go).
//
// bbolt holds an exclusive file lock while a database is open, so a second
// process gets a *LockedError instead of waiting forever.
package store
