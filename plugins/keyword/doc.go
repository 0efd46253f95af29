// Package keyword is the plugin behind rules of type "keyword":
// whole-word keyword matching by the host's multi-keyword matcher, ASCII
// case-insensitive unless case_sensitive is set.
//
// Config: {"keywords": ["..."], "case_sensitive": false}.
//
// plugins/builtin registers it for its rule type; Configure is its
// sdk.Plugin.Configure.
package keyword
