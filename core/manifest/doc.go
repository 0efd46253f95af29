// Package manifest signs and verifies plugin manifests, and holds the wire
// types of the central plugin registry that the central server, the proxy's
// syncer and the CLI share.
//
// # Manifest
//
// A [Manifest] binds a plugin's name, version, ABI version, declared limits,
// size and sha256. It travels inside an [Envelope]: the manifest JSON as an
// opaque payload (base64 in the file) plus one or more ed25519 signatures
// over a domain-separated message (see [SigningMessage]). Signing the exact
// payload bytes, rather than a re-encoding of the decoded struct, means a
// verifier never has to reproduce the signer's JSON byte for byte, and a
// manifest from a newer tool with more fields still verifies.
//
// Each signature carries its public key, so anyone can check that the file
// is intact ([VerifySelfSigned]: the central server does this on upload),
// but only [Verify] against the operator's trusted keys says the plugin may
// run. Several signatures allow a key rotation: sign with the old and the
// new key until every proxy trusts the new one.
//
// # Rollback
//
// Versions are semantic versions ([ParseVersion]). A holder of a plugin
// accepts a manifest for the same name only if its version is not lower
// than the one it has, and a version, once seen, names one binary
// ([CheckUpgrade]).
//
// # Files
//
// `tokenomics plugin sign` writes FILE.wasm.manifest.json ([SidecarPath]).
// Private keys are PKCS#8 PEM files ([EncodePrivateKey]); public keys are
// written as base64 of the 32 key bytes, the form plugins.trusted_keys takes.
package manifest
