// Package detect describes the PII and secret detectors of the built-in pii
// plugin: for each detector, RE2 patterns that find candidates (run by the
// host's native regex primitive) and a validator that accepts or trims a
// candidate (Luhn for card numbers, area rules for SSNs, octet ranges for IP
// addresses). Plugin authors may reuse it; it uses the standard library only.
//
// A pattern with a group named "match" reports that group's span instead of
// the whole match (for example only the key in "api_key = ...").
package detect
