package fakeupstream

import (
	"iter"
	"unicode"
	"unicode/utf8"
)

// CountTokens is the fake's tokenizer, used for every usage number it reports.
// A token is a maximal run of letters, digits and underscores, or any other
// single non-space character (Han, kana and Hangul characters are one token
// each, as real tokenizers spend about that); white space separates tokens and is never one.
// "Echo: hello, world!" is 6 tokens. Joining texts with white space adds their
// counts, so the count of a prompt is the sum over its texts.
func CountTokens(text string) int {
	n := 0
	for i := 0; ; {
		_, end, ok := scanToken(text, i)
		if !ok {
			return n
		}
		n++
		i = end
	}
}

// Byte classes for the ASCII fast path.
const (
	clsSpace = iota
	clsWord
	clsOther
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch r := rune(c); {
		case isSpace(r):
			t[c] = clsSpace
		case isWord(r):
			t[c] = clsWord
		default:
			t[c] = clsOther
		}
	}
	return t
}()

// scanToken finds the first token at or after byte offset i.
func scanToken(s string, i int) (start, end int, ok bool) {
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiClass[c] != clsSpace {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isSpace(r) {
			break
		}
		i += size
	}
	if i >= len(s) {
		return 0, 0, false
	}
	start = i
	r, size := decodeRune(s, i)
	i += size
	if !isWord(r) || isIdeographic(r) {
		return start, i, true
	}
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiClass[c] != clsWord {
				break
			}
			i++
			continue
		}
		r, size = utf8.DecodeRuneInString(s[i:])
		if !isWord(r) || isIdeographic(r) {
			break
		}
		i += size
	}
	return start, i, true
}

func decodeRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// isIdeographic reports scripts written without spaces (Han, kana,
// Hangul), where real tokenizers spend about a token per character: each
// such character is a token of its own.
func isIdeographic(r rune) bool {
	return r >= 0x1100 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || '\t' <= r && r <= '\r'
	}
	return unicode.IsSpace(r)
}

// cutTokens keeps the first n tokens of s. It reports whether anything was cut.
func cutTokens(s string, n int) (string, bool) {
	end := 0
	for i := 0; i < n; i++ {
		_, e, ok := scanToken(s, end)
		if !ok {
			return s, false
		}
		end = e
	}
	if _, _, more := scanToken(s, end); !more {
		return s, false
	}
	return s[:end], true
}

// pieces splits s into stream deltas, one per token, each carrying the white
// space before it; the last one also carries trailing white space. The pieces
// concatenate back to s, and there are CountTokens(s) of them.
func pieces(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		from := 0
		_, end, ok := scanToken(s, 0)
		for ok {
			_, nextEnd, more := scanToken(s, end)
			if !more {
				yield(s[from:])
				return
			}
			if !yield(s[from:end]) {
				return
			}
			from, end = end, nextEnd
		}
	}
}
