// Package promptguard is the plugin behind rules of type
// "prompt_guard": a prompt-injection heuristic. Weighted signals (phrases
// such as "ignore previous instructions", role overrides, "developer mode",
// obfuscation hints) are found by the host's regex primitive; the score is
// the sum of the weights of the distinct signals seen in the request, capped
// at 1. At or above the threshold the plugin reports the signals' spans and
// blocks with a reason naming the score and the signals.
//
// Config (abi fields): threshold (optional, in (0,1], default 0.5), and
// replace: a text that, when set, takes the place of every message with a
// signal instead of blocking (the original project's jailbreak rule with
// action mask).
//
// plugins/builtin registers it for its rule type; Configure is its
// sdk.Plugin.Configure. Its config is not JSON but abi fields
// (abi.DecodeFields), which core/rules encodes from the policy rule: the
// built-in module is built without encoding/json (sdk's sdk_nojson tag).
package promptguard
