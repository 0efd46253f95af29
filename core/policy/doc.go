// Package policy is the schema of the JSON policy a token carries, with
// strict parsing, validation, per-request resolution and JSON merge patch.
//
// Parse is strict: an unknown or misspelled field, a value of the wrong JSON
// type, a duplicate key or trailing data is an error that names the JSON path
// (for example "policy: rules[1].actoin: unknown field"). Validation errors
// are collected in one pass and joined; each is a *FieldError, so callers can
// list them all with FieldErrors. After validation Parse normalizes the
// policy (default action, scope, on_error, strategy and retry_on; "block" is
// stored as "fail"), so the proxy reads final values and Marshal writes them.
//
// The "providers" object is ordered: Resolve walks its groups and entries in
// written order and the first entry that admits the model wins. Marshal and
// MergePatch keep that order, which encoding/json's maps would lose.
//
// Resolve is on the request path and does not allocate; it relies on state
// (compiled regexps, budget keys, windows) that Validate computes, so a
// Policy built in code must be validated before use.
package policy
