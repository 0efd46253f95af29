package memory

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// format writes one exchange as a Markdown section. A record starts with a
// "## " heading and ends with "---"; every value taken from the request or
// the policy is escaped (header values) or block-quoted (texts), so none
// can start a line of its own and forge a record boundary.
func format(b *bufio.Writer, e Entry) {
	fmt.Fprintf(b, "## %s · %s", e.Time.UTC().Format(time.RFC3339), inline(e.Model))
	if e.Provider != "" {
		fmt.Fprintf(b, " via %s", inline(e.Provider))
	}
	fmt.Fprintf(b, " · token %s\n\n", inline(prefix(e.TokenHash)))
	if len(e.Metadata) > 0 {
		keys := make([]string, 0, len(e.Metadata))
		for k := range e.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(b, "- %s: %s\n", inline(k), inline(e.Metadata[k]))
		}
		b.WriteByte('\n')
	}
	for _, m := range e.Request {
		fmt.Fprintf(b, "**%s:**\n\n%s\n\n", inline(m.Role), quote(m.Content))
	}
	fmt.Fprintf(b, "**assistant:**\n\n%s\n\n", quote(e.Response))
	fmt.Fprintf(b, "_tokens: %d prompt, %d completion_\n\n---\n\n", e.Prompt, e.Output)
}

// inline makes s safe inside one line: control characters, line and
// paragraph separators and invalid UTF-8 are written as Go escapes (a
// newline becomes the two characters \n), and backslashes are doubled so
// an escape in the file is never ambiguous.
func inline(s string) string {
	clean := true
	for _, r := range s {
		if r == '\\' || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.Quote(s)
	q = q[1 : len(q)-1]                     // without the quotes
	return strings.ReplaceAll(q, `\"`, `"`) // quotes are harmless here
}

// unsafeRune reports runes that may end a line for some reader: C0 and C1
// controls, DEL, U+2028/U+2029, and the replacement of invalid UTF-8.
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// quote renders text as a Markdown block quote. Every line ending the
// CommonMark way (\n, \r\n or a lone \r) starts a new "> " line, so the
// text's own headings and rules cannot break the file's structure.
func quote(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "> (empty)"
	}
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}
