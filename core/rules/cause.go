package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// causeMax bounds a failure cause in logs and events.
const causeMax = 300

// Cause is err's text fit for a log line or an event: its first line only
// (wazero appends the guest's stack trace on the next lines), printable,
// at most 300 bytes. Guest-controlled text passes through it before it
// reaches an operator, never a client.
func Cause(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return sanitize(clip([]byte(s), causeMax))
}

// clip cuts b to at most n bytes; a rune cut in two becomes '?' in
// sanitize.
func clip(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return b[:n]
}

// sanitize returns b as a string with invalid UTF-8 and non-printable runes
// (controls, bidi overrides) replaced by '?', so a plugin's text cannot
// forge log lines or hide characters in an error body.
func sanitize(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			sb.WriteByte('?')
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
