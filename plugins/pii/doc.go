// Package pii is the plugin behind rules of type "pii". It finds
// candidates with the host's regex primitive (patterns from sdk/detect) and
// validates them here: Luhn for card numbers, SSN area rules, IP octets.
//
// Config (abi fields): detect (repeated, required: names from sdk/detect).
//
// plugins/builtin registers it for its rule type; Configure is its
// sdk.Plugin.Configure. Its config is not JSON but abi fields
// (abi.DecodeFields), which core/rules encodes from the policy rule: the
// built-in module is built without encoding/json (sdk's sdk_nojson tag).
package pii
