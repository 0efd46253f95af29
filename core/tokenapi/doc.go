// Package tokenapi is the one place token management lives: create, list,
// get, update and delete, plus the change feed proxies sync from.
//
// Service implements Manager on a store.Backend (bbolt or PostgreSQL). NewHandler serves any
// Manager over HTTP (JSON, OpenAI-shaped errors), and Client is a Manager
// that talks to such a handler, so the CLI works the same offline, against
// a running server's local admin endpoint, and against the central server.
//
// While `serve` or `remote` holds the bbolt lock, LocalAdmin exposes the
// handler on loopback and leaves a discovery file next to the database
// (DiscoveryPath) with its address and a random secret, so `token create`
// can reach the running process instead of failing on the lock.
package tokenapi
