package memory

import (
	"bufio"
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
//
// It writes straight into the file's buffer, without fmt and without
// building the quoted texts as strings: the writer goroutine formats every
// exchange of every memory-enabled token, so it allocates nothing for a
// record with clean header values and at most 8 metadata keys.
func format(b *bufio.Writer, e Entry) {
	// Numbers are appended to the buffer's free space (AvailableBuffer):
	// no scratch array escapes through Write.
	b.WriteString("## ")
	b.Write(e.Time.UTC().AppendFormat(b.AvailableBuffer(), time.RFC3339))
	b.WriteString(" · ")
	b.WriteString(inline(e.Model))
	if e.Provider != "" {
		b.WriteString(" via ")
		b.WriteString(inline(e.Provider))
	}
	b.WriteString(" · token ")
	b.WriteString(inline(prefix(e.TokenHash)))
	b.WriteString("\n\n")
	if len(e.Metadata) > 0 {
		var kb [8]string
		keys := kb[:0]
		for k := range e.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.WriteString("- ")
			b.WriteString(inline(k))
			b.WriteString(": ")
			b.WriteString(inline(e.Metadata[k]))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	answer := e.Response
	if t := e.Texts.b; t != nil {
		// The writer's until done: read in place (textBuf.text).
		for i := range t.msgs {
			writeMessage(b, t.msgs[i].role, t.text(i))
		}
		answer = bytesString(t.ans)
	} else {
		for _, m := range e.Request {
			writeMessage(b, m.Role, m.Content)
		}
	}
	b.WriteString("**assistant:**\n\n")
	writeQuote(b, answer)
	b.WriteString("\n\n_tokens: ")
	b.Write(strconv.AppendInt(b.AvailableBuffer(), e.Prompt, 10))
	b.WriteString(" prompt, ")
	b.Write(strconv.AppendInt(b.AvailableBuffer(), e.Output, 10))
	b.WriteString(" completion_\n\n---\n\n")
}

func writeMessage(b *bufio.Writer, role, text string) {
	b.WriteString("**")
	b.WriteString(inline(role))
	b.WriteString(":**\n\n")
	writeQuote(b, text)
	b.WriteString("\n\n")
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

// writeQuote writes text as a Markdown block quote. Every line ending the
// CommonMark way (\n, \r\n or a lone \r) starts a new "> " line, so the
// text's own headings and rules cannot break the file's structure.
// Trailing line endings are dropped; an empty text is "> (empty)".
func writeQuote(b *bufio.Writer, s string) {
	s = strings.TrimRight(s, "\r\n") // every trailing \r and \n is a line ending
	if s == "" {
		b.WriteString("> (empty)")
		return
	}
	b.WriteString("> ")
	for {
		i := lineBreak(s)
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		b.WriteString("\n> ")
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
}

// lineBreak is strings.IndexAny(s, "\r\n") made of two vectorised
// single-byte searches (a CR is looked for only before the first LF),
// several times faster on a chat text than IndexAny's per-byte set test.
func lineBreak(s string) int {
	n := strings.IndexByte(s, '\n')
	head := s
	if n >= 0 {
		head = s[:n]
	}
	if r := strings.IndexByte(head, '\r'); r >= 0 {
		return r
	}
	return n
}
