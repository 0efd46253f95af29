package memory

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// formatWithFmt is the record format written the plain way (fmt, strings):
// the specification format must match byte for byte.
func formatWithFmt(b *bytes.Buffer, e Entry) {
	quoteText := func(s string) string {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
		s = strings.TrimRight(s, "\n")
		if s == "" {
			return "> (empty)"
		}
		return "> " + strings.ReplaceAll(s, "\n", "\n> ")
	}
	fmt.Fprintf(b, "## %s · %s", e.Time.UTC().Format(time.RFC3339), inline(e.Model))
	if e.Provider != "" {
		fmt.Fprintf(b, " via %s", inline(e.Provider))
	}
	fmt.Fprintf(b, " · token %s\n\n", inline(prefix(e.TokenHash)))
	if len(e.Metadata) > 0 {
		var keys []string
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
		fmt.Fprintf(b, "**%s:**\n\n%s\n\n", inline(m.Role), quoteText(m.Content))
	}
	fmt.Fprintf(b, "**assistant:**\n\n%s\n\n", quoteText(e.Response))
	fmt.Fprintf(b, "_tokens: %d prompt, %d completion_\n\n---\n\n", e.Prompt, e.Output)
}

func formatted(e Entry) string {
	var out bytes.Buffer
	w := bufio.NewWriterSize(&out, 64)
	format(w, e)
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return out.String()
}

// TestFormatMatchesPlainFormat: the allocation-free format writes exactly
// what the plain fmt version does, line endings, escapes and all.
func TestFormatMatchesPlainFormat(t *testing.T) {
	t.Parallel()
	texts := []string{"", "\n", "\r\n\r", "hi", "a\r\nb\rc\nd", "a\r\rb\n\n", "## heading\n---\n", "tab\there",
		"trailing\r", strings.Repeat("long line ", 500), "é\u2028x", "bad \xff utf8", "\\back\\slash"}
	for i, text := range texts {
		e := entry(strings.Repeat("ab", 40), "x", "", text)
		e.Response = texts[(i+3)%len(texts)]
		e.Model = texts[(i+7)%len(texts)]
		e.Metadata = map[string]string{"team": text, "role\n": "dev", "z": "1", "a": "\\"}
		if i%2 == 0 {
			e.Provider, e.Metadata = "", nil
		}
		var want bytes.Buffer
		formatWithFmt(&want, e)
		assert.Equal(t, want.String(), formatted(e), "text %q", text)
	}
}

// FuzzFormat checks the same on arbitrary texts and header values.
func FuzzFormat(f *testing.F) {
	f.Add("hi\r\nthere", "gpt-4o", "dev")
	f.Add("\r\r\n\n", "a\nb", "\xff")
	f.Fuzz(func(t *testing.T, text, model, meta string) {
		e := entry("h", "x", "", text)
		e.Response, e.Model = text+meta, model
		e.Metadata = map[string]string{meta: text, "k": meta}
		var want bytes.Buffer
		formatWithFmt(&want, e)
		if got := formatted(e); got != want.String() {
			t.Fatalf("format differs:\n got %q\nwant %q", got, want.String())
		}
	})
}

// TestFormatAllocs: a record with clean header values and a few metadata
// keys costs the writer goroutine no allocation.
func TestFormatAllocs(t *testing.T) {
	e := entry(strings.Repeat("a", 64), "x", "", strings.Repeat("a line of a user's question\r\n", 70))
	e.Metadata = map[string]string{"team": "platform", "role": "developer"}
	w := bufio.NewWriterSize(io.Discard, 16<<10)
	require.Zero(t, testing.AllocsPerRun(100, func() { format(w, e) }))
}

// TestExpandMatchesReplacer: the one-pass placeholder expansion gives what
// a strings.Replacer of the three placeholders does.
func TestExpandMatchesReplacer(t *testing.T) {
	t.Parallel()
	e := entry(strings.Repeat("0123456789abcdef", 4), "x", "", "")
	h := prefix(e.TokenHash)
	r := strings.NewReplacer("{token_hash}", h, "{session_id}", h, "{date}", e.Time.UTC().Format("2006-01-02"))
	for _, name := range []string{"plain.md", "{token_hash}.md", "{date}/{session_id}/{token_hash}.md", "{{token_hash}}",
		"{", "}{", "{date", "{unknown}.md", "a{date}b{date}c", "{token_hash}{session_id}{date}", "ends with {"} {
		assert.Equal(t, r.Replace(name), expand(name, e), name)
	}
}
