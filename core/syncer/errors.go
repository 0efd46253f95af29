package syncer

import "errors"

var (
	// ErrPluginUnavailable means no verified plugin of that name is active.
	ErrPluginUnavailable = errors.New("syncer: plugin not available")
	// ErrPluginVersion means the policy pins another binary than the active
	// verified version.
	ErrPluginVersion = errors.New("syncer: policy pins another plugin binary than the verified one")
	// ErrNoStore means New was called without a store or token feed.
	ErrNoStore = errors.New("syncer: a store and a token feed are required")
)
