package providers

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// MaxDepth is the deepest nesting of arrays and objects the scanner accepts.
// Real requests nest a handful of levels (tool schemas a dozen or two); the
// limit keeps hostile bodies from exhausting the stack and from making
// every walk over them deep.
const MaxDepth = 128

// Kind is the type of a JSON value, known from its first byte.
type Kind uint8

// The kinds of JSON values.
const (
	KindInvalid Kind = iota
	KindObject
	KindArray
	KindString
	KindNumber
	KindTrue
	KindFalse
	KindNull
)

var kindNames = [...]string{"invalid", "object", "array", "string", "number", "true", "false", "null"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Value is the byte span of one JSON value inside a body.
type Value struct {
	Start, End int // body[Start:End] is the value's source text
	Kind       Kind
	Escaped    bool // a string literal holding at least one backslash escape
}

// Raw returns the value's source text.
func (v Value) Raw(body []byte) []byte { return body[v.Start:v.End] }

// Ref returns a TextRef for a string value.
func (v Value) Ref(role, kind string, index, part int) TextRef {
	return TextRef{Start: v.Start, End: v.End, Role: role, Kind: kind, Index: index, Part: part}
}

// Scanner reads one JSON document in place, without decoding it. It is a pull
// parser: the caller's control flow mirrors the document's shape, asking for
// an Object or Array iterator where it expects one and Skip or Value for the
// rest. Every byte that is passed over is validated, so a document that the
// scanner walks to its end (Finish) is well-formed JSON, except that invalid
// UTF-8 inside strings is accepted (it is replaced by U+FFFD on decoding, as
// encoding/json does).
//
// Errors are sticky: after the first one every method returns a zero result
// and Err reports it. The zero Scanner is not usable; use NewScanner or Reset.
type Scanner struct {
	body    []byte
	pos     int
	depth   int
	err     error
	scratch [64]byte
}

// NewScanner returns a scanner positioned at the start of body.
func NewScanner(body []byte) Scanner {
	return Scanner{body: body}
}

// Reset repositions the scanner at the start of body and clears its error.
func (s *Scanner) Reset(body []byte) {
	s.body, s.pos, s.depth, s.err = body, 0, 0, nil
}

// Body returns the document being scanned.
func (s *Scanner) Body() []byte { return s.body }

// Err returns the first error met, or nil.
func (s *Scanner) Err() error { return s.err }

// Seek moves the scanner to offset pos (clamped to the body), to read a
// value whose span an earlier pass found. It resets the nesting depth, so
// it must not be used inside an Object or Array iteration.
func (s *Scanner) Seek(pos int) {
	s.pos = min(max(pos, 0), len(s.body))
	s.depth = 0
}

// Pos returns the offset of the next unread byte.
func (s *Scanner) Pos() int { return s.pos }

func (s *Scanner) fail(off int, msg string) {
	if s.err == nil {
		s.err = syntaxError(off, msg)
	}
	s.pos = len(s.body)
}

// syntaxError builds the error for malformed input. Errors are rare, so the
// allocation here does not matter.
func syntaxError(off int, msg string) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, off, msg)
}

// Fail makes err the scanner's error (if it has none yet) and ends the
// scan: adapters use it to refuse a well-formed body from inside an
// iteration.
func (s *Scanner) Fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.pos = len(s.body)
}

// Peek returns the kind of the next value without consuming it.
func (s *Scanner) Peek() Kind {
	if s.err != nil {
		return KindInvalid
	}
	s.pos = skipSpace(s.body, s.pos)
	if s.pos >= len(s.body) {
		return KindInvalid
	}
	return kindOf(s.body[s.pos])
}

// Value scans the next value, validating it, and returns its span.
func (s *Scanner) Value() Value {
	if s.err != nil {
		return Value{}
	}
	s.pos = skipSpace(s.body, s.pos)
	v, err := scanValue(s.body, s.pos, s.depth)
	if err != nil {
		s.err = err
		s.pos = len(s.body)
		return Value{}
	}
	s.pos = v.End
	return v
}

// Skip passes over the next value.
func (s *Scanner) Skip() { s.Value() }

// Finish checks that only whitespace follows the last value and returns the
// scanner's error, if any.
func (s *Scanner) Finish() error {
	if s.err != nil {
		return s.err
	}
	if s.depth != 0 {
		return syntaxError(s.pos, "unfinished object or array")
	}
	s.pos = skipSpace(s.body, s.pos)
	if s.pos != len(s.body) {
		return syntaxError(s.pos, "data after the top-level value")
	}
	return nil
}

// Key returns the text of a member name: the literal's inner bytes when it
// holds no escapes, otherwise the decoded name. The result may alias the
// scanner's scratch space and is valid until the next call to Key.
func (s *Scanner) Key(key Value) []byte {
	if key.Kind != KindString || key.End-key.Start < 2 {
		return nil
	}
	inner := s.body[key.Start+1 : key.End-1]
	if !key.Escaped {
		return inner
	}
	out, err := appendUnescaped(s.scratch[:0], inner)
	if err != nil {
		return nil
	}
	return out
}

// Object consumes the opening brace of an object and returns an iterator over
// its members. If the next value is not an object, the scanner fails.
func (s *Scanner) Object() Object {
	if s.Peek() != KindObject {
		s.fail(s.pos, "expected an object")
		return Object{s: s}
	}
	if s.depth >= MaxDepth {
		s.err = ErrDepth
		s.pos = len(s.body)
		return Object{s: s}
	}
	s.pos++
	s.depth++
	return Object{s: s, depth: s.depth, valStart: -1}
}

// Array consumes the opening bracket of an array and returns an iterator over
// its elements. If the next value is not an array, the scanner fails.
func (s *Scanner) Array() Array {
	if s.Peek() != KindArray {
		s.fail(s.pos, "expected an array")
		return Array{s: s}
	}
	if s.depth >= MaxDepth {
		s.err = ErrDepth
		s.pos = len(s.body)
		return Array{s: s}
	}
	s.pos++
	s.depth++
	return Array{s: s, depth: s.depth, valStart: -1}
}

// Object iterates over the members of one JSON object.
//
// After Next returns a key the scanner sits at the member's value. The caller
// reads it with Value, Object or Array, or leaves it alone: an unread value is
// skipped by the following Next. A nested Object or Array must be iterated
// until its Next returns false before the outer Next is called.
type Object struct {
	s        *Scanner
	depth    int
	n        int
	valStart int
	done     bool
}

// Next advances to the next member and returns its name's span. It returns
// false at the end of the object or on error.
func (o *Object) Next() (key Value, ok bool) {
	s := o.s
	if o.done || s == nil || s.err != nil {
		return Value{}, false
	}
	if s.depth != o.depth {
		s.fail(s.pos, "nested value left unfinished")
		return Value{}, false
	}
	if o.valStart >= 0 && s.pos == o.valStart {
		s.Skip()
		if s.err != nil {
			return Value{}, false
		}
	}
	b := s.body
	i := skipSpace(b, s.pos)
	if i >= len(b) {
		s.fail(i, "unterminated object")
		return Value{}, false
	}
	if b[i] == '}' {
		s.pos = i + 1
		s.depth--
		o.done = true
		return Value{}, false
	}
	if o.n > 0 {
		if b[i] != ',' {
			s.fail(i, "expected ',' or '}' after object member")
			return Value{}, false
		}
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		s.fail(i, "expected a member name")
		return Value{}, false
	}
	end, esc, err := scanString(b, i)
	if err != nil {
		s.err, s.pos = err, len(b)
		return Value{}, false
	}
	key = Value{Start: i, End: end, Kind: KindString, Escaped: esc}
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != ':' {
		s.fail(i, "expected ':' after member name")
		return Value{}, false
	}
	i = skipSpace(b, i+1)
	if i >= len(b) {
		s.fail(i, "missing member value")
		return Value{}, false
	}
	s.pos = i
	o.valStart = i
	o.n++
	return key, true
}

// Array iterates over the elements of one JSON array. The rules of Object
// apply to its elements.
type Array struct {
	s        *Scanner
	depth    int
	n        int
	valStart int
	done     bool
}

// Next advances to the next element, leaving the scanner at it. It returns
// false at the end of the array or on error.
func (a *Array) Next() bool {
	s := a.s
	if a.done || s == nil || s.err != nil {
		return false
	}
	if s.depth != a.depth {
		s.fail(s.pos, "nested value left unfinished")
		return false
	}
	if a.valStart >= 0 && s.pos == a.valStart {
		s.Skip()
		if s.err != nil {
			return false
		}
	}
	b := s.body
	i := skipSpace(b, s.pos)
	if i >= len(b) {
		s.fail(i, "unterminated array")
		return false
	}
	if b[i] == ']' {
		s.pos = i + 1
		s.depth--
		a.done = true
		return false
	}
	if a.n > 0 {
		if b[i] != ',' {
			s.fail(i, "expected ',' or ']' after array element")
			return false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) || b[i] == ']' {
			s.fail(i, "expected an array element")
			return false
		}
	}
	s.pos = i
	a.valStart = i
	a.n++
	return true
}

// Index returns the zero-based position of the current element.
func (a *Array) Index() int { return a.n - 1 }

// ---- low-level scanning on byte offsets ----

func kindOf(c byte) Kind {
	switch c {
	case '{':
		return KindObject
	case '[':
		return KindArray
	case '"':
		return KindString
	case 't':
		return KindTrue
	case 'f':
		return KindFalse
	case 'n':
		return KindNull
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return KindNumber
	}
	return KindInvalid
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanValue scans the value starting exactly at i.
func scanValue(b []byte, i, depth int) (Value, error) {
	if i >= len(b) {
		return Value{}, syntaxError(i, "unexpected end of input")
	}
	k := kindOf(b[i])
	v := Value{Start: i, Kind: k}
	var err error
	switch k {
	case KindString:
		v.End, v.Escaped, err = scanString(b, i)
	case KindNumber:
		v.End, err = scanNumber(b, i)
	case KindTrue:
		v.End, err = scanLiteral(b, i, "true")
	case KindFalse:
		v.End, err = scanLiteral(b, i, "false")
	case KindNull:
		v.End, err = scanLiteral(b, i, "null")
	case KindObject, KindArray:
		v.End, err = scanContainer(b, i, depth)
	default:
		return Value{}, syntaxError(i, "invalid character starting a value")
	}
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, syntaxError(i, "invalid literal")
	}
	return i + len(lit), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, syntaxError(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, syntaxError(start, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, syntaxError(start, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

// scanContainer walks an object or array starting at b[i]. It recurses for
// nested containers, bounded by MaxDepth.
func scanContainer(b []byte, i, depth int) (int, error) {
	if depth >= MaxDepth {
		return 0, ErrDepth
	}
	open := b[i]
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closing {
		return i + 1, nil
	}
	for {
		if open == '{' {
			if i >= len(b) || b[i] != '"' {
				return 0, syntaxError(i, "expected a member name")
			}
			end, _, err := scanString(b, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, syntaxError(i, "expected ':' after member name")
			}
			i = skipSpace(b, i+1)
		}
		v, err := scanValue(b, i, depth+1)
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, v.End)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated object or array")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closing:
			return i + 1, nil
		default:
			return 0, syntaxError(i, "expected ',' or closing bracket")
		}
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// stringStop reports whether any byte of the 8-byte word x is a quote, a
// backslash or a control character: the only bytes a string scan must stop
// at. It is exact for the whole word (no false negatives).
func stringStop(x uint64) uint64 {
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	ctl := (x - lsb*0x20) & ^x
	return ((q-lsb) & ^q | (bs-lsb)&^bs | ctl) & msb
}

// scanString scans the string literal starting at the quote b[i] and returns
// the offset just past its closing quote. It validates escapes and rejects
// raw control characters; plain runs are skipped eight bytes at a time.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	start := i
	i++
	for {
		for i+8 <= len(b) {
			m := stringStop(binary.LittleEndian.Uint64(b[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
			break
		}
		if i >= len(b) {
			return 0, false, syntaxError(start, "unterminated string")
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			n, err := escapeLen(b, i)
			if err != nil {
				return 0, false, err
			}
			i += n
		case c < 0x20:
			return 0, false, syntaxError(i, "control character in string")
		default:
			i++
		}
	}
}

// escapeLen validates the escape sequence at b[i] (a backslash) and returns
// its length.
func escapeLen(b []byte, i int) (int, error) {
	if i+1 >= len(b) {
		return 0, syntaxError(i, "unterminated escape")
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if i+6 > len(b) {
			return 0, syntaxError(i, "short unicode escape")
		}
		for _, h := range b[i+2 : i+6] {
			if unhex(h) < 0 {
				return 0, syntaxError(i, "invalid unicode escape")
			}
		}
		return 6, nil
	}
	return 0, syntaxError(i, "invalid escape")
}

func unhex(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// EmptyContainer reports whether v, an object or array, holds only
// whitespace between its brackets.
func EmptyContainer(body []byte, v Value) bool {
	for i := v.Start + 1; i < v.End-1; i++ {
		if !isSpace(body[i]) {
			return false
		}
	}
	return true
}

// InsertPoint returns where new members go in an object whose closing brace
// ends at end (exclusive): right after the last value, before any
// whitespace that precedes the brace, so a rewrite keeps the layout.
func InsertPoint(body []byte, end int) int {
	i := end - 1
	for i > 0 && isSpace(body[i-1]) {
		i--
	}
	return i
}
