package providers

import (
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// Kinds of text a TextRef points at.
const (
	TextSystem   = "system"    // system prompt: system/developer messages, instructions, Anthropic system
	TextMessage  = "message"   // user, assistant or tool message content
	TextToolArgs = "tool_args" // tool call arguments (request history, responses, streamed fragments)
	// TextPrompt is the legacy completions prompt. It is not "prompt": the
	// rule ABI reserves that kind for the policy's own (trusted) prompts.
	TextPrompt     = "completion_prompt"
	TextInput      = "input"      // embeddings input, responses string input
	TextCompletion = "completion" // generated text in a non-streamed response
	TextDelta      = "delta"      // generated text fragment in one stream event
	TextReasoning  = "reasoning"  // visible reasoning (thinking blocks, reasoning summaries)
	// TextToolDef is text of a tool or output-format definition that the
	// provider renders into the prompt: descriptions and the string values
	// of JSON schemas (enums, defaults, examples, titles).
	TextToolDef = "tool_def"
	// TextMeta is a request field the provider receives but does not
	// render into the prompt: stop sequences, end-user ids, metadata.
	TextMeta = "meta"
)

// TextRef points at one JSON string literal inside a body. Start and End span
// the literal including its quotes, so body[Start:End] is valid JSON and
// DecodeText yields the text a model sees.
//
// Index and Part locate the text in its document so that texts can be told
// apart and streamed fragments joined:
//   - requests: Index is the message (or input item) position, -1 for
//     top-level texts such as a system field or a prompt; Part is the content
//     part, tool call or array element position within it, or -1.
//   - responses: Index is the choice (OpenAI chat/completions) or output item
//     (responses API) position; Part is the tool call or content part
//     position, or -1.
//   - stream deltas: (Kind, Index, Part) is stable for one logical text
//     across events: choice and tool call index for OpenAI chat, output_index
//     and content_index for the responses API, 0 and the content block index
//     for Anthropic.
type TextRef struct {
	Start, End int
	Role       string
	Kind       string
	Index      int
	Part       int
	// Form says how the literal holds its text and how a mask is written
	// back (FormText for all but names, URLs and text documents).
	Form Form
}

// Form is how a referenced literal holds the text the rules read.
type Form uint8

// The forms of a referenced literal.
const (
	// FormText: the literal's text, written back JSON-escaped.
	FormText Form = iota
	// FormName: an identifier (a tool, function, participant or schema
	// property name). Providers accept only a small alphabet there, so a
	// masked name is written with every byte outside [A-Za-z0-9_.-]
	// replaced by '_' ("[REDACTED:SSN]" becomes "_REDACTED_SSN_").
	FormName
	// FormURL: a URL the provider fetches. A masked URL is written with
	// the bytes a URL cannot carry (brackets, spaces, quotes, non-ASCII)
	// percent-encoded, so it stays a URL.
	FormURL
	// FormData: a base64 data: URL of a text document (see DataURL). The
	// text is the decoded document; a masked document is base64-encoded
	// again under its media type.
	FormData
)

// OrderRequestRefs puts the refs a walker appended to refs[:from] in the
// order the proxy reads them: the texts the model reads as prose
// (FormText) first, then the fields (names, URLs, documents: every other
// form), each in body order. Rules join the texts of one message (a secret
// split across parts), and a field glued to a neighbouring text would be
// masked with it; keeping fields apart keeps the texts' runs as they were.
// Walkers append most refs in body order; a few (a part's text read after
// its other members) come late. It returns refs with the same length; it
// allocates only to grow refs' capacity, which the caller keeps.
func OrderRequestRefs(refs []TextRef, from int) []TextRef {
	n, first, sorted := len(refs), -1, true
	for i := from; i < n; i++ {
		if i > from && refs[i].Start < refs[i-1].Start {
			sorted = false
		}
		if first < 0 && refs[i].Form != FormText {
			first = i
		}
	}
	if !sorted {
		slices.SortStableFunc(refs[from:], func(a, b TextRef) int { return a.Start - b.Start })
		first = slices.IndexFunc(refs[from:], func(r TextRef) bool { return r.Form != FormText })
		if first >= 0 {
			first += from
		}
	}
	if first < 0 {
		return refs
	}
	// Stable partition from the first field on, through the spare
	// capacity: fields go after the end, texts close up, fields come back
	// behind them.
	k := first
	for i := first; i < n; i++ {
		if refs[i].Form != FormText {
			refs = append(refs, refs[i])
		} else {
			refs[k] = refs[i]
			k++
		}
	}
	copy(refs[k:n], refs[n:])
	return refs[:n]
}

// Edit replaces the literal at Ref with the JSON encoding of Text.
type Edit struct {
	Ref  TextRef
	Text []byte
}

func checkLiteral(body []byte, start, end int) bool {
	return start >= 0 && end <= len(body) && end-start >= 2 && body[start] == '"' && body[end-1] == '"'
}

// DecodeText appends the text of the string literal at ref to dst: for
// FormData the decoded document.
func DecodeText(dst, body []byte, ref TextRef) ([]byte, error) {
	if !checkLiteral(body, ref.Start, ref.End) {
		return dst, ErrBadRef
	}
	switch ref.Form {
	case FormData:
		return appendDataText(dst, body[ref.Start+1:ref.End-1])
	case FormURL:
		// Percent-decoded: "bob%40example.com" is the address the image
		// host reads, so it is the one the rules must see. A masked URL
		// is encoded again (appendURL).
		start := len(dst)
		dst, err := appendUnescaped(dst, body[ref.Start+1:ref.End-1])
		if err != nil {
			return dst, err
		}
		return percentDecode(dst, start), nil
	}
	return appendUnescaped(dst, body[ref.Start+1:ref.End-1])
}

// percentDecode decodes the %XX escapes of dst[start:] in place; a '%' not
// followed by two hex digits stays as it is.
func percentDecode(dst []byte, start int) []byte {
	w := start
	for r := start; r < len(dst); r++ {
		c := dst[r]
		if c == '%' && r+2 < len(dst) && unhex(dst[r+1]) >= 0 && unhex(dst[r+2]) >= 0 {
			c = byte(unhex(dst[r+1])<<4 | unhex(dst[r+2]))
			r += 2
		}
		dst[w] = c
		w++
	}
	return dst[:w]
}

// Splice appends to dst a copy of body in which each edit's literal is
// replaced by the JSON encoding of its text, written in the ref's form
// (see Form). Edits are put in body order in place (request refs list
// fields after texts, see OrderRequestRefs); they must not overlap, and
// must each point at a string literal. dst must not alias body.
//
// Masked member names are kept unique within their object (uniqueNames).
func Splice(dst, body []byte, edits []Edit) ([]byte, error) {
	uniqueNames(body, edits)
	byStart := func(a, b Edit) int { return a.Ref.Start - b.Ref.Start }
	if !slices.IsSortedFunc(edits, byStart) {
		slices.SortFunc(edits, byStart)
	}
	last := 0
	for _, e := range edits {
		if e.Ref.Start < last || !checkLiteral(body, e.Ref.Start, e.Ref.End) {
			return dst, ErrBadEdit
		}
		dst = append(dst, body[last:e.Ref.Start]...)
		switch e.Ref.Form {
		case FormName:
			dst = appendName(dst, e.Text)
		case FormURL:
			dst = appendURL(dst, e.Text)
		case FormData:
			var err error
			if dst, err = appendDataURL(dst, body[e.Ref.Start+1:e.Ref.End-1], e.Text); err != nil {
				return dst, err
			}
		default:
			dst = AppendString(dst, e.Text)
		}
		last = e.Ref.End
	}
	return append(dst, body[last:]...), nil
}

// appendUnescaped decodes the inside of a string literal (without quotes).
// Invalid UTF-8 and unpaired surrogates become U+FFFD, as in encoding/json.
func appendUnescaped(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); {
		// Copy the run up to the next escape in one append.
		j := i
		for j < len(s) && s[j] != '\\' && s[j] < utf8.RuneSelf {
			j++
		}
		dst = append(dst, s[i:j]...)
		i = j
		if i >= len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		if c < 0x20 || c == '"' {
			return dst, syntaxError(i, "invalid character in string")
		}
		// c is a backslash.
		if i+1 >= len(s) {
			return dst, syntaxError(i, "unterminated escape")
		}
		switch s[i+1] {
		case '"', '\\', '/':
			dst = append(dst, s[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return dst, syntaxError(i, "invalid unicode escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, i+2); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						dst = utf8.AppendRune(dst, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, syntaxError(i, "invalid escape")
		}
		i += 2
	}
	return dst, nil
}

func hex4(s []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		h := unhex(c)
		if h < 0 {
			return 0, false
		}
		r = r<<4 | h
	}
	return r, true
}

const hexDigits = "0123456789abcdef"

// AppendString appends the JSON string literal (with quotes) encoding text.
// Invalid UTF-8 is replaced by U+FFFD so the output is always valid JSON.
func AppendString(dst, text []byte) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, text)
	return append(dst, '"')
}

// AppendStringText is AppendString for a string.
func AppendStringText(dst []byte, text string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, text)
	return append(dst, '"')
}

// AppendEscaped appends the JSON-escaped form of text without quotes, for
// building a literal from several pieces.
func AppendEscaped(dst, text []byte) []byte { return appendEscaped(dst, text) }

// AppendEscapedString is AppendEscaped for a string.
func AppendEscapedString(dst []byte, text string) []byte { return appendEscaped(dst, text) }

func appendEscaped[T []byte | string](dst []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			var buf [utf8.UTFMax]byte
			r, n := utf8.DecodeRune(buf[:copy(buf[:], s[i:])])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += n
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

// unescapeChunk decodes the inside of a string literal into dst until dst
// is nearly full, stopping on a character boundary. It returns the decoded
// bytes and how many input bytes it consumed (0 on a malformed escape at the
// start).
func unescapeChunk(dst, s []byte) ([]byte, int) {
	const margin = 8
	i := 0
	for i < len(s) {
		room := cap(dst) - len(dst) - margin
		if room <= 0 && utf8.RuneStart(s[i]) {
			break
		}
		if s[i] != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' && (j-i < room || !utf8.RuneStart(s[j])) {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		n, err := escapeLen(s, i)
		if err != nil {
			break
		}
		if s[i+1] == 'u' && i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
			if r, _ := hex4(s, i+2); utf16.IsSurrogate(r) {
				n = 12 // keep a surrogate pair together
			}
		}
		out, err := appendUnescaped(dst, s[i:i+n])
		if err != nil {
			break
		}
		dst = out
		i += n
	}
	return dst, i
}
