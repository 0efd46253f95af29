package store

// PluginStore keeps the central plugin registry's state: entries (signed
// manifests, JSON, keyed "<name>/<sha256>"), the binaries they name (keyed
// by sha256) and the registry's own revision. The registry's rules
// (signatures, versions only going up) live in central.Registry; a
// PluginStore only has to make each UpdatePlugins call one serialized,
// atomic transaction, across every process that shares the storage.
type PluginStore interface {
	UpdatePlugins(fn func(PluginTx) error) error
	ViewPlugins(fn func(PluginTx) error) error
}

// PluginTx is one transaction of a PluginStore. Returned slices belong to
// the caller.
type PluginTx interface {
	// Entry returns the entry under key, or nil when there is none.
	Entry(key string) ([]byte, error)
	// Entries calls fn for every entry, in key order.
	Entries(fn func(key string, v []byte) error) error
	PutEntry(key string, v []byte) error
	DeleteEntry(key string) error
	// Blob returns the binary with that sha256, or nil.
	Blob(sha string) ([]byte, error)
	PutBlob(sha string, wasm []byte) error
	DeleteBlob(sha string) error
	Revision() (uint64, error)
	SetRevision(rev uint64) error
}
