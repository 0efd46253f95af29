package manifest

import "errors"

var (
	// ErrMalformed means an envelope or manifest does not parse or breaks a
	// field rule.
	ErrMalformed = errors.New("manifest: malformed")
	// ErrUnsigned means an envelope carries no signature.
	ErrUnsigned = errors.New("manifest: not signed")
	// ErrBadSignature means no signature verifies, even with the key it names.
	ErrBadSignature = errors.New("manifest: bad signature")
	// ErrUntrustedKey means a signature verifies but none is by a trusted key.
	ErrUntrustedKey = errors.New("manifest: not signed by a trusted key")
	// ErrNoTrustedKeys means Verify was given no keys: nothing can verify.
	ErrNoTrustedKeys = errors.New("manifest: no trusted keys configured (plugins.trusted_keys)")
	// ErrDigestMismatch means a binary does not match its manifest's sha256
	// or size.
	ErrDigestMismatch = errors.New("manifest: binary does not match the manifest")
	// ErrRollback means a manifest's version is older than the one held.
	ErrRollback = errors.New("manifest: version is older than the one already accepted")
	// ErrVersionReused means one version of a plugin names two binaries.
	ErrVersionReused = errors.New("manifest: version already names another binary")
	// ErrUnsupportedABI means the manifest states an ABI this build does not run.
	ErrUnsupportedABI = errors.New("manifest: unsupported ABI version")
	// ErrBadKey means a key file or key string does not decode.
	ErrBadKey = errors.New("manifest: bad key")
)
