package providers

import (
	"bytes"
	"unicode/utf8"
)

// Per-request constants of the prompt estimate. Chat formats wrap every
// message in a few special tokens (role markers, separators) and prime the
// reply with a few more; these are the usual published values.
const (
	TokensPerMessage = 4
	TokensPerReply   = 3
	// TokensPerImage is the allowance for one image input: above the
	// 1,568-pixel Anthropic maximum (about 1,600 tokens) and the OpenAI
	// high-detail tiling of typical images.
	TokensPerImage = 1600
)

// Character classes of the estimator.
const (
	clSpace uint8 = iota
	clLower
	clUpper
	clDigit
	clPunct
	clHigh  // first byte of a multi-byte UTF-8 sequence (or invalid byte)
	clBack  // backslash: an escape in literal mode, punctuation otherwise
	clQuote // quote: ends a literal in literal mode
)

var asciiClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			t[c] = clSpace
		case c >= 'a' && c <= 'z':
			t[c] = clLower
		case c >= 'A' && c <= 'Z':
			t[c] = clUpper
		case c >= '0' && c <= '9':
			t[c] = clDigit
		case c == '\\':
			t[c] = clBack
		case c == '"':
			t[c] = clQuote
		case c >= utf8.RuneSelf:
			t[c] = clHigh
		default:
			t[c] = clPunct
		}
	}
	return t
}()

// EstimateTokens returns an offline estimate of the number of tokens the
// text takes in the BPE tokenizers of current chat models (OpenAI
// cl100k/o200k, Anthropic). It never loads a vocabulary: it counts the
// pieces BPE tokenizers cut text into, erring high. See doc.go for the method
// and its measured error.
func EstimateTokens(text []byte) int64 {
	return estimate(text)
}

// EstimateLiteral estimates the tokens of the text held by a JSON string
// literal (with or without its quotes) without decoding it.
func EstimateLiteral(lit []byte) int64 {
	if len(lit) >= 2 && lit[0] == '"' && lit[len(lit)-1] == '"' {
		lit = lit[1 : len(lit)-1]
	}
	if bytes.IndexByte(lit, '\\') < 0 {
		return estimate(lit)
	}
	// Decode in stack-sized chunks; a word cut at a chunk boundary costs at
	// most one extra token per chunk.
	var buf [512]byte
	var tokens int64
	for len(lit) > 0 {
		chunk, n := unescapeChunk(buf[:0], lit)
		if n == 0 {
			return tokens + estimate(lit) // malformed escape: price the rest raw
		}
		tokens += estimate(chunk)
		lit = lit[n:]
	}
	return tokens
}

// EstimateRequest adds the per-message and per-reply overheads of a chat
// request to the estimate of its texts.
func EstimateRequest(textTokens int64, messages int) int64 {
	return textTokens + TokensPerMessage*int64(messages) + TokensPerReply
}

// Word pricing: a letter run of up to wordLetters weighted letters is one
// token, each further wordStep letters one more. Capitals weigh
// upperWeight. Tuned on the corpus described in doc.go.
const (
	wordLetters = 6
	wordStep    = 3
	upperWeight = 2
)

// highWeight8 prices a non-ASCII character by its UTF-8 length, in eighths
// of a token.
var highWeight8 = [5]int64{0, 8, 9, 20, 32}

// commonBigram[a] has bit b set when the letter pair a,b (lower case)
// occurs at least three times in a 67,000-pair sample of English prose and
// technical documentation; the 375 pairs set cover nearly all English
// words.
// Indexed by a letter's (b|0x20)-'a' masked to 5 bits: 32 rows, the last six
// zero, so the scan needs no bounds check.
var commonBigram = [32]uint32{
	0x1ffbf6e, 0x11e5b19, 0x11efdd5, 0x17e6b79,
	0x1efffff, 0x11e4931, 0x11ef9d1, 0x11e7119,
	0x2befd7f, 0x0144011, 0x134a151, 0x17cfd7f,
	0x036f91f, 0x13efd7f, 0x1fefdff, 0x11edd9d,
	0x0100000, 0x17efd7f, 0x15cddb5, 0x15efdbd,
	0x08eb97f, 0x0004115, 0x0466991, 0x109a115,
	0x30ef917, 0x0000111,
}

func wordTokens(n int) int64 {
	if n <= 0 {
		return 0
	}
	if n <= wordLetters {
		return 1
	}
	return 1 + int64((n-wordLetters+wordStep-1)/wordStep)
}

// estimate walks text once, classifying bytes into runs that BPE
// pre-tokenizers (cl100k, o200k) split text into, and prices each run.
func estimate(b []byte) int64 {
	var tokens int64
	n := len(b)
	i := 0
	for i < n {
		c := b[i]
		switch asciiClass[c] {
		case clSpace:
			// A single space glues onto the next word or symbol.
			j := i + 1
			for j < n && asciiClass[b[j]] == clSpace {
				j++
			}
			if j-i > 1 || c != ' ' {
				tokens += wsTokens(b[i:j])
			} else if j < n && asciiClass[b[j]] == clDigit {
				tokens++ // digits never absorb the space before them
			}
			i = j
		case clLower, clUpper:
			// Letters: split into camelCase segments ("getHTTPServer" is
			// get|HTTP|Server); capitals weigh double since mixed-case runs
			// are rarely single vocabulary entries, and letter pairs rare
			// in English words (qz, xj, ...), which mark identifiers, keys
			// and random strings, cost a token each.
			j := i
			w := 0
			prev, prev2 := uint8(clSpace), uint8(clSpace)
			var row uint32 // commonBigram's row of the previous letter
		letters:
			for ; j < n; j++ {
				c := b[j]
				k := asciiClass[c]
				switch {
				case k == clLower:
					if prev == clUpper && prev2 == clUpper {
						// "HTTPServer": the last capital starts a new word
						tokens += wordTokens(w - upperWeight)
						w = upperWeight
					}
					w++
				case k == clUpper:
					if prev == clLower {
						tokens += wordTokens(w)
						w = 0
					}
					w += upperWeight
				default:
					break letters
				}
				l := ((c | 0x20) - 'a') & 31
				if j > i && row&(1<<l) == 0 {
					tokens++
				}
				row = commonBigram[l]
				prev2, prev = prev, k
			}
			if (i > 0 && asciiClass[b[i-1]] == clDigit) || (j < n && asciiClass[b[j]] == clDigit) {
				// Letters glued to digits are identifiers, hashes or
				// encoded data, which BPE cuts into short pieces.
				tokens += int64(j-i+1) / 2
			} else {
				tokens += wordTokens(w)
			}
			i = j
		case clDigit:
			// Numbers are cut into groups of at most three digits.
			j := i + 1
			for j < n && asciiClass[b[j]] == clDigit {
				j++
			}
			tokens += int64(j-i+2) / 3
			i = j
		case clPunct, clQuote, clBack:
			// Symbol runs: common pairs (`":`, `);`, `->`, `**`) are single
			// vocabulary entries, so a run costs one token per two.
			j := i + 1
			for j < n {
				if k := asciiClass[b[j]]; k != clPunct && k != clQuote && k != clBack {
					break
				}
				j++
			}
			tokens += int64(j-i+1) / 2
			i = j
		case clHigh:
			// Non-Latin scripts: about one token per character for
			// two-byte scripts (Cyrillic, Greek, Arabic, Hebrew), two and
			// a half for three-byte ones (CJK, Indic: rare ones fall to
			// bytes) and four, the byte count, for emoji and other
			// four-byte characters; counted in eighths over the run.
			var w8 int64
			for i < n && b[i] >= utf8.RuneSelf {
				_, size := utf8.DecodeRune(b[i:])
				w8 += highWeight8[size]
				i += size
			}
			tokens += (w8 + 7) / 8
		}
	}
	return tokens
}

// wsTokens prices a whitespace run other than a single space: line breaks
// merge in pairs, and spaces or tabs (indentation, alignment) cost one token
// per sixteen once there are two or more.
func wsTokens(ws []byte) int64 {
	nl, sp := 0, 0
	for _, c := range ws {
		if c == '\n' || c == '\r' {
			nl++
		} else {
			sp++
		}
	}
	t := int64(nl+1) / 2
	if sp > 1 || nl == 0 {
		t += int64(sp+15) / 16
	}
	return t
}

// Guaranteed prompt bounds. Byte-level BPE tokenizers (OpenAI cl100k and
// o200k, Anthropic's) give every token at least one byte of the UTF-8 text,
// so a text never has more tokens than bytes, and a JSON string literal is
// never shorter than the text it holds. A request's prompt therefore costs
// at most the bytes of its text literals and tool definitions, plus
// TokensPerMessage per message, TokensPerReply, ToolsBound when tools are
// offered and MaxTokensPerImage per image, whatever the estimate says.
// Images are bounded by the documented ceilings of gpt-4o tiling (1,445 at
// 2048×768) and of Anthropic images (about 1,600 at 1.15 megapixels). Not
// bounded: models that price images by other rules (gpt-4o-mini's
// multiplier), audio, file and document inputs, and state held by the
// provider (previous_response_id), which the body does not contain.
const MaxTokensPerImage = 1600

// ToolsBound covers the system prompt providers add when a request offers
// tools (Anthropic documents 313 to 346 tokens); counted once.
const ToolsBound = 600

// Bound accumulates a request's guaranteed prompt bound while a parser
// walks it. The zero value is ready.
type Bound struct {
	bytes  int64
	images int64
	tools  bool
}

// Text counts a text literal (or any raw JSON text) by its bytes.
func (b *Bound) Text(raw []byte) { b.bytes += int64(len(raw)) }

// Add counts n tokens known exactly (token-id prompts).
func (b *Bound) Add(n int64) { b.bytes += n }

// Tools notes that tools are offered: their definitions count as Text, and
// the provider's tool prompt once.
func (b *Bound) Tools() { b.tools = true }

// Image counts one image.
func (b *Bound) Image() { b.images++ }

// Total is the bound for messages framed messages; reply adds the reply
// priming (chat formats).
func (b *Bound) Total(messages int, reply bool) int64 {
	n := b.bytes + MaxTokensPerImage*b.images + TokensPerMessage*int64(messages)
	if reply {
		n += TokensPerReply
	}
	if b.tools {
		n += ToolsBound
	}
	return n
}

// MessageBound is the guaranteed bound of one prepended message: its bytes
// plus its framing.
func MessageBound(content string) int64 {
	return int64(len(content)) + TokensPerMessage
}
