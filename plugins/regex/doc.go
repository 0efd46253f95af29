// Package regex is the plugin behind rules of type "regex": one RE2
// pattern run by the host's regex primitive.
//
// Config: {"pattern": "..."} (required).
//
// plugins/builtin registers it for its rule type; Configure is its
// sdk.Plugin.Configure.
package regex
