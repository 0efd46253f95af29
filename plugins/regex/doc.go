// Package regex is the plugin behind rules of type "regex": one RE2
// pattern run by the host's regex primitive.
//
// Config (abi fields): pattern (required).
//
// plugins/builtin registers it for its rule type; Configure is its
// sdk.Plugin.Configure. Its config is not JSON but abi fields
// (abi.DecodeFields), which core/rules encodes from the policy rule: the
// built-in module is built without encoding/json (sdk's sdk_nojson tag).
package regex
