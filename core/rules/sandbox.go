package rules

import "github.com/tetratelabs/wazero"

// wazeroModuleConfig is the guest's world: an anonymous module (so one
// compiled module can have many instances), no args, no environment, no
// filesystem preopens, discarded stdio, and wazero's defaults of a fake
// clock and deterministic randomness. "_initialize" runs the package inits
// of reactor modules (Go c-shared); modules without it are not affected.
func wazeroModuleConfig() wazero.ModuleConfig {
	return wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize")
}
