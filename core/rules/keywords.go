package rules

import (
	"unicode"
	"unicode/utf8"
)

// acMatcher is an Aho-Corasick automaton over byte classes: a dense table of
// states x classes, so a scan is two table loads per byte. Case folding is
// ASCII only (non-ASCII bytes match exactly).
type acMatcher struct {
	fold, whole bool
	class       [256]uint16
	nclass      int
	// next maps (state offset + class) to the next state's offset, where a
	// state's offset is its index times nclass (saves a multiply per byte).
	next   []int32
	out    [][]int32 // keyword indices ending in each state, by state index
	term   []bool    // by state offset: the state has output
	lens   []int
	maxLen int
	// stay marks the bytes that keep the automaton at its root. The root
	// never has output (keywords are not empty), so a scan at the root
	// steps over them without a transition: most of a chat text.
	stay [256]bool
}

func lowerASCII(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 32
	}
	return b
}

func newACMatcher(words []string, fold, whole bool) *acMatcher {
	m := &acMatcher{fold: fold, whole: whole, nclass: 1}
	norm := func(b byte) byte {
		if fold {
			return lowerASCII(b)
		}
		return b
	}
	// Classes: every byte used by a keyword gets its own class, the rest share 0.
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			b := norm(w[i])
			if m.class[b] == 0 {
				m.class[b] = uint16(m.nclass)
				m.nclass++
			}
		}
	}
	if fold {
		for b := 'A'; b <= 'Z'; b++ {
			m.class[b] = m.class[b+32]
		}
	}
	// Trie.
	goto_ := [][]int32{make([]int32, m.nclass)}
	m.out = [][]int32{nil}
	for wi, w := range words {
		s := int32(0)
		for i := 0; i < len(w); i++ {
			c := m.class[norm(w[i])]
			if goto_[s][c] == 0 {
				goto_ = append(goto_, make([]int32, m.nclass))
				m.out = append(m.out, nil)
				goto_[s][c] = int32(len(goto_) - 1)
			}
			s = goto_[s][c]
		}
		m.out[s] = append(m.out[s], int32(wi))
		m.lens = append(m.lens, len(w))
		m.maxLen = max(m.maxLen, len(w))
	}
	// Failure links by BFS, folded into a full transition table.
	n := len(goto_)
	fail := make([]int32, n)
	m.next = make([]int32, n*m.nclass)
	queue := make([]int32, 0, n)
	for c := 0; c < m.nclass; c++ {
		if t := goto_[0][c]; t != 0 {
			queue = append(queue, t)
		}
		m.next[c] = goto_[0][c]
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		m.out[s] = append(m.out[s], m.out[fail[s]]...)
		for c := 0; c < m.nclass; c++ {
			t := goto_[s][c]
			if t == 0 {
				m.next[int(s)*m.nclass+c] = m.next[int(fail[s])*m.nclass+c]
				continue
			}
			fail[t] = m.next[int(fail[s])*m.nclass+c]
			m.next[int(s)*m.nclass+c] = t
			queue = append(queue, t)
		}
	}
	m.term = make([]bool, n*m.nclass)
	for i := range m.out {
		m.term[i*m.nclass] = len(m.out[i]) > 0
	}
	for i := range m.next {
		m.next[i] *= int32(m.nclass)
	}
	for b := range m.stay {
		m.stay[b] = m.next[m.class[b]] == 0 && !m.term[0]
	}
	return m
}

// isWordRune reports letters, digits and '_' as word characters.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		b := byte(r)
		return b == '_' || b >= '0' && b <= '9' || b|0x20 >= 'a' && b|0x20 <= 'z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func boundaryBefore(text []byte, i int) bool {
	if i == 0 {
		return true
	}
	if text[i-1] < utf8.RuneSelf {
		return !isWordRune(rune(text[i-1]))
	}
	r, _ := utf8.DecodeLastRune(text[:i])
	return !isWordRune(r)
}

func boundaryAfter(text []byte, i int) bool {
	if i >= len(text) {
		return true
	}
	if text[i] < utf8.RuneSelf {
		return !isWordRune(rune(text[i]))
	}
	r, _ := utf8.DecodeRune(text[i:])
	return !isWordRune(r)
}

// find reports keyword occurrences ordered by end position.
func (m *acMatcher) find(text []byte, first bool, s *sink) {
	m.scan(text, first, s)
}

// contains reports whether any keyword occurs (the regex literal gate).
func (m *acMatcher) contains(text []byte) bool {
	var s sink
	m.scan(text, true, &s)
	return s.n > 0
}

// nextHit returns the first keyword hit (ordered by end) in text[from:], with
// offsets into text. Word boundaries are not checked (gate use).
func (m *acMatcher) nextHit(text []byte, from int) (start, end int, ok bool) {
	next, class, term, stay := m.next, &m.class, m.term, &m.stay
	st := int32(0)
	for i := from; i < len(text); i++ {
		if st == 0 {
			for i < len(text) && stay[text[i]] {
				i++
			}
			if i == len(text) {
				break
			}
		}
		st = next[st+int32(class[text[i]])]
		if term[st] {
			return i + 1 - m.lens[m.out[int(st)/m.nclass][0]], i + 1, true
		}
	}
	return 0, 0, false
}

func (m *acMatcher) scan(text []byte, first bool, s *sink) {
	next, class, term, stay := m.next, &m.class, m.term, &m.stay
	st := int32(0)
	for i := 0; i < len(text); i++ {
		if st == 0 {
			for i < len(text) && stay[text[i]] {
				i++
			}
			if i == len(text) {
				return
			}
		}
		st = next[st+int32(class[text[i]])]
		if !term[st] {
			continue
		}
		end := i + 1
		for _, k := range m.out[int(st)/m.nclass] {
			start := end - m.lens[k]
			if m.whole && !(boundaryBefore(text, start) && boundaryAfter(text, end)) {
				continue
			}
			s.add(start, end, int(k))
			if first {
				return
			}
		}
	}
}
