package textnorm

import (
	"encoding/binary"
	"sort"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// run maps view bytes out[v:v+n] to source bytes src[s:s+sn]: byte for
// byte when lin (n == sn, a verbatim copy), else every view byte of the
// run maps to the whole source span (a replaced character or escape).
type run struct {
	v, n, s, sn int32
	lin         bool
}

// entry records where one text's view lives.
type entry struct {
	src      []byte
	json     bool
	identity bool // the view is src itself
	off, n   int  // view bytes out[off:off+n]
	r0, r1   int  // runs[r0:r1]
}

// Normalizer builds detection views of a set of texts. Reuse one: Reset
// keeps its buffers, so a warm Normalizer does not allocate. Not safe for
// concurrent use.
type Normalizer struct {
	entries []entry
	out     []byte
	runs    []run
	arena   []byte // escaped replacements
	tmp     [4]byte
	first   int // first run of the text being built
}

// Reset forgets all texts.
func (n *Normalizer) Reset() {
	n.entries = n.entries[:0]
	n.out = n.out[:0]
	n.runs = n.runs[:0]
	n.arena = n.arena[:0]
}

// Add builds the view of src and returns its index. json says src is JSON
// text whose escapes are decoded first (tool arguments). src must not
// change while the Normalizer refers to it.
func (n *Normalizer) Add(src []byte, json bool) int {
	e := entry{src: src, json: json}
	if plain(src, json) {
		e.identity = true
	} else {
		e.off, e.r0 = len(n.out), len(n.runs)
		n.build(src, json, e.off)
		e.n, e.r1 = len(n.out)-e.off, len(n.runs)
	}
	n.entries = append(n.entries, e)
	return len(n.entries) - 1
}

// Identity reports whether every text added is its own view.
func (n *Normalizer) Identity() bool {
	for i := range n.entries {
		if !n.entries[i].identity {
			return false
		}
	}
	return true
}

// Text returns the view of text i. Read views after the last Add: adding
// texts may move earlier views.
func (n *Normalizer) Text(i int) []byte {
	e := &n.entries[i]
	if e.identity {
		return e.src
	}
	return n.out[e.off : e.off+e.n : e.off+e.n]
}

// Map turns a span of text i's view into the span of source bytes that
// produced it, characters dropped inside it included. An empty span maps
// to an empty span at the matching source position.
func (n *Normalizer) Map(i, start, end int) (int, int) {
	e := &n.entries[i]
	if e.identity || start < 0 || end > e.n || start > end {
		return start, end
	}
	if start == end {
		if start == e.n {
			return len(e.src), len(e.src)
		}
		s, _ := n.locate(e, start)
		return s, s
	}
	s, _ := n.locate(e, start)
	_, t := n.locate(e, end-1)
	return s, t
}

// locate returns the source span of view byte at (relative to the text).
func (n *Normalizer) locate(e *entry, at int) (int, int) {
	runs := n.runs[e.r0:e.r1]
	v := int32(at)
	k := sort.Search(len(runs), func(k int) bool { return runs[k].v+runs[k].n > v })
	if k == len(runs) {
		return len(e.src), len(e.src)
	}
	r := runs[k]
	if r.lin {
		p := int(r.s + v - r.v)
		return p, p + 1
	}
	return int(r.s), int(r.s + r.sn)
}

// JSON reports whether text i was added as JSON text.
func (n *Normalizer) JSON(i int) bool { return n.entries[i].json }

// EscapeJSON returns repl as it must be written inside a JSON string
// literal: unchanged when it needs no escaping, else an escaped copy held
// until the next Reset.
func (n *Normalizer) EscapeJSON(repl []byte) []byte {
	clean := true
	for _, c := range repl {
		if c < 0x20 || c == '"' || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return repl
	}
	start := len(n.arena)
	n.arena = appendJSONEscaped(n.arena, repl)
	return n.arena[start:len(n.arena):len(n.arena)]
}

// plain reports whether src needs no normalization: ASCII without control
// characters (other than tab, LF, CR) and, in JSON text, without escapes.
func plain(src []byte, json bool) bool {
	i := 0
	// Eight bytes at a time: no byte >= 0x80, none below 0x20 (tab, LF
	// and CR are checked one by one below), no 0x7f, no backslash.
	for ; i+8 <= len(src); i += 8 {
		if wordStop(binary.LittleEndian.Uint64(src[i:]), json) == 0 {
			continue
		}
		for _, c := range src[i : i+8] {
			if c >= utf8.RuneSelf || asciiStop(c, json) {
				return false
			}
		}
	}
	for _, c := range src[i:] {
		if c >= utf8.RuneSelf || asciiStop(c, json) {
			return false
		}
	}
	return true
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// wordStop is non-zero when a byte of x may need a look: non-ASCII, below
// 0x20, DEL, or (json) a backslash. It may flag tab, LF and CR.
func wordStop(x uint64, json bool) uint64 {
	high := x & msb
	low := (x - lsb*0x20) & ^x & msb
	del := x ^ (lsb * 0x7f)
	del = (del - lsb) & ^del & msb
	m := high | low | del
	if json {
		bs := x ^ (lsb * '\\')
		m |= (bs - lsb) & ^bs & msb
	}
	return m
}

func asciiStop(c byte, json bool) bool {
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f || json && c == '\\'
}

// copied appends src[s:e] verbatim, extending the last run when adjacent.
func (n *Normalizer) copied(src []byte, s, e, off int) {
	v := int32(len(n.out) - off)
	n.out = append(n.out, src[s:e]...)
	if k := len(n.runs) - 1; k >= n.first {
		last := &n.runs[k]
		if last.lin && last.v+last.n == v && last.s+last.sn == int32(s) {
			last.n += int32(e - s)
			last.sn += int32(e - s)
			return
		}
	}
	n.runs = append(n.runs, run{v: v, n: int32(e - s), s: int32(s), sn: int32(e - s), lin: true})
}

// replaced appends repl as the view of source bytes [s, e).
func (n *Normalizer) replaced(repl []byte, s, e, off int) {
	if len(repl) == 0 {
		return
	}
	v := int32(len(n.out) - off)
	n.out = append(n.out, repl...)
	n.runs = append(n.runs, run{v: v, n: int32(len(repl)), s: int32(s), sn: int32(e - s)})
}

// build appends the view of src to n.out. Bytes that stay as they are
// (ASCII, and runes the view keeps) accumulate into one verbatim span,
// copied when something else interrupts it.
func (n *Normalizer) build(src []byte, json bool, off int) {
	n.first = len(n.runs)
	keep := 0 // start of the pending verbatim span
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			if !asciiStop(c, json) {
				i++
				continue
			}
			n.flush(src, keep, i, off)
			size := 1
			if c == '\\' {
				if r, k := decodeEscape(src[i:]); k > 0 {
					n.rune(r, src, i, i+k, off, false)
					size = k
				} else {
					n.copied(src, i, i+1, off)
				}
			} // else: a dropped control character
			i += size
			keep = i
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if size > 1 && action(r) == actKeep {
			i += size
			continue
		}
		n.flush(src, keep, i, off)
		n.rune(r, src, i, i+size, off, size > 1)
		i += size
		keep = i
	}
	n.flush(src, keep, len(src), off)
}

// flush copies the pending verbatim span src[keep:i].
func (n *Normalizer) flush(src []byte, keep, i, off int) {
	if i > keep {
		n.copied(src, keep, i, off)
	}
}

// rune appends the view of r, found at src[s:e]. verbatim says src[s:e]
// is r's own UTF-8 encoding (not an escape or an invalid byte).
func (n *Normalizer) rune(r rune, src []byte, s, e, off int, verbatim bool) {
	act := action(r)
	switch {
	case act == actDrop:
		return
	case act >= 0x21 && act <= 0x7e:
		n.tmp[0] = act
		n.replaced(n.tmp[:1], s, e, off)
	case act == actNFKC:
		n.replaced(nfkcOf(r), s, e, off)
	default:
		if verbatim {
			n.copied(src, s, e, off)
			return
		}
		var buf [utf8.UTFMax]byte
		n.replaced(buf[:utf8.EncodeRune(buf[:], r)], s, e, off)
	}
}

// Actions of the rune table; values 0x21-0x7e replace a rune by that
// ASCII character.
const (
	actKeep byte = 0
	actDrop byte = 1
	actNFKC byte = 2
)

// actions caches classify for BMP runes, filled as runes are first met
// (0 = not yet classified, else action+1): building it for every rune up
// front costs over 100 ms. Races between requests only store equal values.
var actions [1 << 16]atomic.Uint32

// nfkcForms caches the view of runes NFKC changes: bmpForms for the BMP
// (indexed by rune, filled as met), nfkcForms (rune -> []byte) above it.
var (
	bmpForms  [1 << 16]atomic.Pointer[[]byte]
	nfkcForms sync.Map
)

// action returns what the view does with r.
func action(r rune) byte {
	if r >= 1<<16 {
		return classify(r)
	}
	if a := actions[r].Load(); a != 0 {
		return byte(a - 1)
	}
	a := classify(r)
	actions[r].Store(uint32(a) + 1)
	return a
}

// nfkcOf returns the view of a rune NFKC changes.
func nfkcOf(r rune) []byte {
	if r < 1<<16 {
		if f := bmpForms[r].Load(); f != nil {
			return *f
		}
		f := foldedNFKC(nil, r)
		bmpForms[r].Store(&f)
		return f
	}
	if f, ok := nfkcForms.Load(r); ok {
		return f.([]byte)
	}
	f := foldedNFKC(nil, r)
	nfkcForms.Store(r, f)
	return f
}

// foldedNFKC appends the NFKC form of r with format characters dropped and
// confusables folded.
func foldedNFKC(dst []byte, r rune) []byte {
	var buf [utf8.UTFMax]byte
	out := norm.NFKC.Append(nil, buf[:utf8.EncodeRune(buf[:], r)]...)
	for j := 0; j < len(out); {
		q, sz := utf8.DecodeRune(out[j:])
		switch a := classify(q); {
		case a == actDrop:
		case a >= 0x21 && a <= 0x7e:
			dst = append(dst, a)
		default:
			dst = append(dst, out[j:j+sz]...)
		}
		j += sz
	}
	return dst
}

// classify decides what the view does with r.
func classify(r rune) byte {
	if r < utf8.RuneSelf {
		if asciiStop(byte(r), false) {
			return actDrop
		}
		return actKeep
	}
	if utf16.IsSurrogate(r) {
		return actKeep
	}
	if ignorable(r) {
		return actDrop
	}
	var buf [utf8.UTFMax]byte
	b := buf[:utf8.EncodeRune(buf[:], r)]
	if !norm.NFKC.IsNormal(b) {
		return actNFKC
	}
	if to := foldConfusable(r); to != 0 {
		return to
	}
	return actKeep
}

// ignorable reports a rune that renders as nothing: format characters,
// default-ignorable code points, variation selectors, controls.
func ignorable(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r)
}

// decodeEscape decodes the JSON escape at b[0] (a backslash) and returns
// the rune and the escape's length, 0 when b holds no valid escape. A
// surrogate pair is one escape; a lone surrogate is U+FFFD.
func decodeEscape(b []byte) (rune, int) {
	if len(b) < 2 {
		return 0, 0
	}
	switch b[1] {
	case '"', '\\', '/':
		return rune(b[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r, ok := hex4(b, 2)
		if !ok {
			return 0, 0
		}
		if utf16.IsSurrogate(r) {
			if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
				if r2, ok := hex4(b, 8); ok {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						return d, 12
					}
				}
			}
			return utf8.RuneError, 6
		}
		return r, 6
	}
	return 0, 0
}

func hex4(b []byte, i int) (rune, bool) {
	if len(b) < i+4 {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		var h byte
		switch {
		case c >= '0' && c <= '9':
			h = c - '0'
		case c >= 'a' && c <= 'f':
			h = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			h = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	return r, true
}

const hexDigits = "0123456789abcdef"

func appendJSONEscaped(dst, s []byte) []byte {
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
