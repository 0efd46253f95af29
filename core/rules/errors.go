package rules

import "errors"

// Sentinel errors; callers branch with errors.Is.
var (
	ErrNoPatterns    = errors.New("rules: no patterns")
	ErrBadModule     = errors.New("rules: plugin module refused")
	ErrBuiltin       = errors.New("rules: built-in plugin not available")
	ErrUnknownType   = errors.New("rules: unknown rule type")
	ErrBadRule       = errors.New("rules: invalid rule")
	ErrPluginFailed  = errors.New("rules: plugin failed")
	ErrPoolExhausted = errors.New("rules: no plugin instance free before the deadline")
	ErrNotReady      = errors.New("rules: plugin not loaded")
	ErrClosed        = errors.New("rules: host closed")
	ErrBadCases      = errors.New("rules: invalid test cases")
)
