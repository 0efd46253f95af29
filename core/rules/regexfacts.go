package rules

import (
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// reFacts are what the regex prefilter knows about a pattern, derived from
// its syntax tree. They let the host skip text that cannot hold a match
// without changing what the pattern matches.
type reFacts struct {
	// alpha holds every byte a match can contain. When it excludes common
	// separators, a match lies inside one maximal run of alpha bytes.
	alpha [256]bool
	// req: every match contains at least one of these bytes (reqOK).
	req   [256]bool
	reqOK bool
	// anchored patterns (^, $, \A, \z) depend on the text edges: no runs.
	anchored bool
	minLen   int
	maxLen   int // -1: unbounded
	// lits: every match contains one of these literals (litOK); litFold: ASCII
	// case-insensitive.
	lits    []string
	litFold bool
	litOK   bool
}

const unbounded = -1

func analyze(re *syntax.Regexp) reFacts {
	var f reFacts
	alphabet(re, &f.alpha, &f.anchored)
	f.req, f.reqOK = required(re)
	f.minLen, f.maxLen = lengths(re)
	var ls litSet
	ls, f.litOK = literals(re)
	f.lits, f.litFold = ls.items, ls.fold
	if f.litOK {
		for _, l := range f.lits {
			if len(l) < 2 { // too short to be worth a gate
				f.litOK = false
			}
		}
	}
	return f
}

// usesRuns tells whether the run prefilter applies: the pattern is not
// anchored, needs some byte, and cannot span both spaces and lowercase words
// (else a run would be most of the text).
func (f *reFacts) usesRuns() bool {
	if f.anchored || !f.reqOK || f.minLen == 0 {
		return false
	}
	lower := 0
	for b := 'a'; b <= 'z'; b++ {
		if f.alpha[b] {
			lower++
		}
	}
	return !f.alpha[' '] || lower < 13
}

// usesWindows tells whether matches can be searched only near literal hits:
// every match holds a literal and is at most maxLen long.
func (f *reFacts) usesWindows() bool {
	return !f.anchored && f.litOK && f.maxLen != unbounded && f.minLen > 0
}

func addRune(set *[256]bool, r rune) {
	if r < utf8.RuneSelf {
		set[r] = true
		return
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	for _, b := range buf[:n] {
		set[b] = true
	}
}

func addRange(set *[256]bool, lo, hi rune) {
	for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
		set[r] = true
	}
	if hi >= utf8.RuneSelf {
		for b := 0x80; b < 256; b++ { // any multi-byte encoding
			set[b] = true
		}
	}
}

// foldRunes calls fn for r and every rune it folds to.
func foldRunes(r rune, fold bool, fn func(rune)) {
	fn(r)
	if !fold {
		return
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		fn(f)
	}
}

func alphabet(re *syntax.Regexp, set *[256]bool, anchored *bool) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			foldRunes(r, re.Flags&syntax.FoldCase != 0, func(x rune) { addRune(set, x) })
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			addRange(set, re.Rune[i], re.Rune[i+1])
		}
	case syntax.OpAnyCharNotNL:
		addRange(set, 0, unicode.MaxRune)
		set['\n'] = false
	case syntax.OpAnyChar:
		addRange(set, 0, unicode.MaxRune)
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		*anchored = true
	}
	for _, s := range re.Sub {
		alphabet(s, set, anchored)
	}
}

// rarity scores how common a byte is in chat text: lower is rarer, so a
// prefilter keyed on it fires less often. A digit is rare next to a space
// (all ten together fire about a third as often in prose), so a pattern
// needing both a digit and a separator, like an SSN, is keyed on digits.
func rarity(b byte) int {
	switch {
	case b == ' ':
		return 40
	case b >= 'a' && b <= 'z':
		return 12
	case b >= 'A' && b <= 'Z':
		return 6
	case b >= '0' && b <= '9':
		return 2
	case b == '\n' || b == '.' || b == ',':
		return 8
	case b >= 0x80:
		return 4
	case b == '@':
		return 1
	}
	return 2
}

func weight(set *[256]bool) int {
	w := 0
	for b, ok := range set {
		if ok {
			w += rarity(byte(b))
		}
	}
	return w
}

func required(re *syntax.Regexp) (set [256]bool, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return set, false
		}
		best, bestW := [256]bool{}, -1
		for _, r := range re.Rune {
			var s [256]bool
			foldRunes(r, re.Flags&syntax.FoldCase != 0, func(x rune) { addRune(&s, x) })
			if w := weight(&s); bestW < 0 || w < bestW {
				best, bestW = s, w
			}
		}
		return best, true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			addRange(&set, re.Rune[i], re.Rune[i+1])
		}
		return set, len(re.Rune) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		bestW := -1
		for _, s := range re.Sub {
			if r, ok := required(s); ok {
				if w := weight(&r); bestW < 0 || w < bestW {
					set, bestW = r, w
				}
			}
		}
		return set, bestW >= 0
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			r, ok := required(s)
			if !ok {
				return set, false
			}
			for b, in := range r {
				set[b] = set[b] || in
			}
		}
		return set, true
	}
	return set, false
}

func runeBytes(r rune, fold bool) (lo, hi int) {
	lo, hi = utf8.UTFMax, 0
	foldRunes(r, fold, func(x rune) {
		n := utf8.RuneLen(x)
		if n < 0 {
			n = 3 // invalid runes encode as U+FFFD
		}
		lo, hi = min(lo, n), max(hi, n)
	})
	return lo, hi
}

func addLen(a, b int) int {
	if a == unbounded || b == unbounded {
		return unbounded
	}
	return a + b
}

// lengths returns the shortest and longest match in bytes.
func lengths(re *syntax.Regexp) (lo, hi int) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			l, h := runeBytes(r, re.Flags&syntax.FoldCase != 0)
			lo, hi = lo+l, hi+h
		}
		return lo, hi
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0, 0
		}
		return utf8.RuneLen(re.Rune[0]), max(utf8.RuneLen(re.Rune[len(re.Rune)-1]), 1)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, utf8.UTFMax
	case syntax.OpCapture:
		return lengths(re.Sub[0])
	case syntax.OpStar:
		return 0, unbounded
	case syntax.OpPlus:
		l, _ := lengths(re.Sub[0])
		return l, unbounded
	case syntax.OpQuest:
		_, h := lengths(re.Sub[0])
		return 0, h
	case syntax.OpRepeat:
		l, h := lengths(re.Sub[0])
		if re.Max < 0 || h == unbounded {
			return l * re.Min, unbounded
		}
		return l * re.Min, h * re.Max
	case syntax.OpConcat:
		for _, s := range re.Sub {
			l, h := lengths(s)
			lo, hi = lo+l, addLen(hi, h)
		}
		return lo, hi
	case syntax.OpAlternate:
		lo = -1
		for _, s := range re.Sub {
			l, h := lengths(s)
			if lo < 0 || l < lo {
				lo = l
			}
			if hi != unbounded {
				if h == unbounded {
					hi = unbounded
				} else {
					hi = max(hi, h)
				}
			}
		}
		return max(lo, 0), hi
	}
	return 0, 0
}

type litSet struct {
	items []string
	fold  bool
}

func (l litSet) shortest() int {
	m := -1
	for _, s := range l.items {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// literals finds literals one of which every match contains. Under case
// folding only ASCII pieces without 's' and 'k' are used: those two fold to
// non-ASCII runes (U+017F, U+212A) an ASCII-folding search would miss.
func literals(re *syntax.Regexp) (litSet, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		best, cur := "", []rune(nil)
		flush := func() {
			if len(cur) > len(best) {
				best = string(cur)
			}
			cur = cur[:0]
		}
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf && fold || fold && (r|0x20 == 's' || r|0x20 == 'k') {
				flush()
				continue
			}
			cur = append(cur, r)
		}
		flush()
		if best == "" {
			return litSet{}, false
		}
		return litSet{items: []string{best}, fold: fold}, true
	case syntax.OpCapture, syntax.OpPlus:
		return literals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literals(re.Sub[0])
		}
	case syntax.OpConcat:
		var best litSet
		ok := false
		for _, s := range re.Sub {
			if l, o := literals(s); o && (!ok || l.shortest() > best.shortest()) {
				best, ok = l, true
			}
		}
		return best, ok
	case syntax.OpAlternate:
		var out litSet
		for _, s := range re.Sub {
			l, o := literals(s)
			if !o {
				return litSet{}, false
			}
			out.items = append(out.items, l.items...)
			out.fold = out.fold || l.fold
		}
		return out, true
	}
	return litSet{}, false
}
