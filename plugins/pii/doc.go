// Package pii is the plugin behind rules of type "pii". It finds
// candidates with the host's regex primitive (patterns from sdk/detect) and
// validates them here: Luhn for card numbers, SSN area rules, IP octets.
//
// Config: {"detect": ["ssn", "email", ...]} (required, names from sdk/detect).
//
// plugins/builtin registers it for its rule type; Configure is its
// sdk.Plugin.Configure.
package pii
