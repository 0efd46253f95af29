// Package keyword is the plugin behind rules of type "keyword":
// whole-word keyword matching by the host's multi-keyword matcher, ASCII
// case-insensitive unless case_sensitive is set.
//
// Config (abi fields): keyword (repeated, required), case_sensitive ("true").
//
// plugins/builtin registers it for its rule type; Configure is its
// sdk.Plugin.Configure. Its config is not JSON but abi fields
// (abi.DecodeFields), which core/rules encodes from the policy rule: the
// built-in module is built without encoding/json (sdk's sdk_nojson tag).
package keyword
