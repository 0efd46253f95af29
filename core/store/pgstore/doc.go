// Package pgstore keeps the central server's tokens and plugin registry
// in PostgreSQL, so several `tokenomics remote` replicas can share them;
// also the fleet's usage rollups (Usage, a rollup.Store) and the console's
// audit log (AuditLog). Central's event inbox is in central/pginbox, on
// this store's pool, since its types are central's.
//
// It implements store.Backend and store.PluginStore with the bbolt
// store's behaviour (core/store/storetest holds both to it) and its bytes:
// records are sealed by store.Sealer exactly as in a bbolt file, so a
// migrated record keeps its hash, revision and ciphertext.
//
// Every write locks the one tokenomics_state row, so writes from every
// replica are serialized and revisions commit in order: a proxy pulling
// since=N never misses a change committed later under a smaller revision.
// Each write notifies the channel tokenomics_changes (or
// tokenomics_plugins) in its transaction; PostgreSQL delivers the notice
// at commit to every replica listening, which is how SubscribeBatch sees
// the other replicas' changes at once.
//
// The schema is versioned (migrate.go); Open applies what is missing under
// an advisory lock, so replicas starting together migrate once.
package pgstore
