package rules

import (
	"fmt"
	"math/bits"
	"regexp"
	"regexp/syntax"
)

// matchGroup is the capture group name whose span a pattern reports instead
// of the whole match.
const matchGroup = "match"

// rePat is one compiled pattern of a regexSet.
type rePat struct {
	re    *regexp.Regexp
	group int // submatch index of the "match" group, 0 for the whole match
	facts reFacts
	// gated: the set's gate holds literals one of which every match contains.
	gated bool
	// windowed: matches are searched within maxLen of gate hits.
	windowed bool
}

// regexSet runs several RE2 patterns over a text. Patterns that cannot span
// whitespace are run only on the runs of bytes they can match around bytes
// they require (one pass over the text for all of them); the others run over
// the whole text when their literal gate lets them.
type regexSet struct {
	pats     []rePat
	reqMask  [256]uint64 // bit p: byte is required-set member of run pattern p
	alphMask [256]uint64 // bit p: byte can occur in a match of run pattern p
	runPats  uint64
	whole    []int // indices of patterns scanned whole
	maxLen   int   // longest match of any pattern, unbounded when -1
	// gate is one automaton over the literals of every gated pattern;
	// gateOwner maps its keyword index to the pattern.
	gate      *acMatcher
	gateOwner []int
	// idle marks the bytes that, with the gate at its root, neither move
	// the gate nor are required by a run pattern: the scan steps over them.
	idle [256]bool
}

const maxRunPatterns = 64

func compileRegexSet(patterns []string) (*regexSet, error) {
	if len(patterns) == 0 {
		return nil, fmt.Errorf("compiling regex set: %w", ErrNoPatterns)
	}
	rs := &regexSet{}
	var gateLits []string
	fold := false
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("compiling pattern %d: %w", i, err)
		}
		parsed, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			return nil, fmt.Errorf("parsing pattern %d: %w", i, err)
		}
		rp := rePat{re: re, facts: analyze(parsed.Simplify())}
		if g := re.SubexpIndex(matchGroup); g > 0 {
			rp.group = g
		}
		if rp.facts.maxLen == unbounded || rs.maxLen == unbounded {
			rs.maxLen = unbounded
		} else {
			rs.maxLen = max(rs.maxLen, rp.facts.maxLen)
		}
		if len(patterns) > maxRunPatterns {
			return nil, fmt.Errorf("compiling regex set: %d patterns, at most %d", len(patterns), maxRunPatterns)
		}
		if rp.facts.usesRuns() {
			bit := uint64(1) << uint(len(rs.pats))
			rs.runPats |= bit
			for b := 0; b < 256; b++ {
				if rp.facts.req[b] {
					rs.reqMask[b] |= bit
				}
				if rp.facts.alpha[b] {
					rs.alphMask[b] |= bit
				}
			}
		} else {
			rs.whole = append(rs.whole, len(rs.pats))
			if rp.facts.litOK {
				rp.gated = true
				rp.windowed = rp.facts.usesWindows()
				fold = fold || rp.facts.litFold
				for _, l := range rp.facts.lits {
					gateLits = append(gateLits, gateLiteral(l))
					rs.gateOwner = append(rs.gateOwner, len(rs.pats))
				}
			}
		}
		rs.pats = append(rs.pats, rp)
	}
	if len(gateLits) > 0 {
		// Folding every literal when one needs it only admits more hits,
		// which the regex then rejects.
		rs.gate = newACMatcher(gateLits, fold, false)
	}
	for b := range rs.idle {
		rs.idle[b] = rs.reqMask[b] == 0 && (rs.gate == nil || rs.gate.stay[b])
	}
	return rs, nil
}

// gateLiteral is the part of literal l the gate looks for. Every match
// holds l, so it holds each part of l too; the gate leaves its root at the
// first byte of a literal, so the part starting at the byte rarest in chat
// text is taken ("cret" rather than "ecret"), at least three bytes long:
// a shorter part would complete often and send the regex to work.
func gateLiteral(l string) string {
	best := 0
	for i := 1; i+3 <= len(l); i++ {
		if textFreq(l[i]) < textFreq(l[best]) {
			best = i
		}
	}
	return l[best:]
}

// letterFreq is how often each letter occurs in English text, per mille.
var letterFreq = [26]uint8{82, 15, 28, 43, 127, 22, 20, 61, 70, 2, 8, 40, 24,
	67, 75, 19, 1, 60, 63, 91, 28, 10, 24, 2, 20, 1}

// textFreq is how often byte b (ASCII case folded) occurs in chat text,
// per mille.
func textFreq(b byte) int {
	switch c := lowerASCII(b); {
	case c >= 'a' && c <= 'z':
		return int(letterFreq[c-'a'])
	case c == ' ':
		return 160
	case c >= '0' && c <= '9':
		return 3
	}
	return 5
}

func (rs *regexSet) find(text []byte, first bool, s *sink) {
	var sc scanState
	if rs.scan(text, first, s, &sc) && first {
		return
	}
	for _, p := range rs.whole {
		rp := &rs.pats[p]
		if rp.windowed || rp.gated && sc.wholeHit&(1<<uint(p)) == 0 {
			continue
		}
		if rs.matchWindow(rp, p, text, 0, first, s) && first {
			return
		}
	}
}

// scanState is the per-scan bookkeeping, kept on the caller's stack.
type scanState struct {
	covered  [maxRunPatterns]int // run patterns: end of the last run examined
	wlo, whi [maxRunPatterns]int // windowed patterns: pending window (whi 0: none)
	wholeHit uint64              // gated whole-text patterns whose gate fired
}

// scan makes one pass over text for the run patterns (at each byte some
// pattern requires, expand that pattern's run and match inside it) and for
// the literal gates of the other patterns (one automaton for all of them:
// windowed patterns match near the hits, whole-text ones are marked).
func (rs *regexSet) scan(text []byte, first bool, s *sink, sc *scanState) bool {
	found := false
	var st int32
	g := rs.gate
	idle := &rs.idle
	for i := 0; i < len(text); i++ {
		if st == 0 {
			for i < len(text) && idle[text[i]] {
				i++
			}
			if i == len(text) {
				break
			}
		}
		c := text[i]
		if g != nil {
			st = g.next[st+int32(g.class[c])]
			if g.term[st] && rs.gateHit(text, i+1, int(st)/g.nclass, first, s, sc) {
				found = true
				if first {
					return true
				}
			}
		}
		m := rs.reqMask[c]
		for m != 0 {
			p := bits.TrailingZeros64(m)
			m &= m - 1
			if i < sc.covered[p] {
				continue
			}
			lo, hi := rs.expand(text, i, uint64(1)<<uint(p))
			sc.covered[p] = hi
			rp := &rs.pats[p]
			if hi-lo < rp.facts.minLen {
				continue
			}
			// One byte of context each side keeps \b exact; those bytes cannot
			// be part of a match.
			wlo, whi := max(lo-1, 0), min(hi+1, len(text))
			if rs.matchWindow(rp, p, text[wlo:whi], wlo, first, s) {
				found = true
				if first {
					return true
				}
			}
		}
	}
	for _, p := range rs.whole {
		if sc.whi[p] > 0 && rs.matchWindow(&rs.pats[p], p, text[sc.wlo[p]:sc.whi[p]], sc.wlo[p], first, s) {
			found = true
			if first {
				return true
			}
		}
	}
	return found
}

// gateHit handles gate literals ending at end (state index si): a windowed
// pattern extends its pending window or flushes it and opens a new one.
func (rs *regexSet) gateHit(text []byte, end, si int, first bool, s *sink, sc *scanState) bool {
	found := false
	for _, k := range rs.gate.out[si] {
		p := rs.gateOwner[k]
		rp := &rs.pats[p]
		if !rp.windowed {
			sc.wholeHit |= 1 << uint(p)
			continue
		}
		start := end - rs.gate.lens[k]
		reach := rp.facts.maxLen + 1
		if sc.whi[p] > 0 && start-reach <= sc.whi[p] {
			sc.whi[p] = min(end+reach, len(text))
			continue
		}
		if sc.whi[p] > 0 && rs.matchWindow(rp, p, text[sc.wlo[p]:sc.whi[p]], sc.wlo[p], first, s) {
			found = true
			if first {
				return true
			}
		}
		sc.wlo[p], sc.whi[p] = max(start-reach, 0), min(end+reach, len(text))
	}
	return found
}

func (rs *regexSet) expand(text []byte, i int, bit uint64) (lo, hi int) {
	lo, hi = i, i+1
	for lo > 0 && rs.alphMask[text[lo-1]]&bit != 0 {
		lo--
	}
	for hi < len(text) && rs.alphMask[text[hi]]&bit != 0 {
		hi++
	}
	return lo, hi
}

// matchWindow reports pattern p's matches in w (which starts at off in the
// text). It allocates only when there is a match. A window is run once:
// the Find functions allocate nothing when nothing matches, so a Match
// before them would only run the regex twice on every hit.
//
// Go's regexp has no Find that fills a caller's slice: FindAll* allocate
// their result list (room for ten matches) besides each match, FindIndex
// only the match. So the first match comes from FindIndex, which is
// FindAll's first match (both search from the start of w); that is all a
// first-only search needs. For all matches, a run pattern (every match
// holds a byte of its required set) whose window has no required byte
// after the first match has no other match, and the common window, one
// match, costs one small allocation. Otherwise FindAll runs from the start:
// a search resumed at the end of the match would see a text edge there,
// and \b there would answer differently.
func (rs *regexSet) matchWindow(rp *rePat, p int, w []byte, off int, first bool, s *sink) bool {
	var loc []int
	if rp.group == 0 {
		loc = rp.re.FindIndex(w)
	} else {
		loc = rp.re.FindSubmatchIndex(w)
	}
	if loc == nil {
		return false
	}
	if first || rs.runPats&(1<<uint(p)) != 0 && !rs.requiredAfter(w[loc[1]:], p) {
		return rs.report(rp, p, loc, off, s)
	}
	found := false
	if rp.group == 0 {
		for _, loc := range rp.re.FindAllIndex(w, -1) {
			found = rs.report(rp, p, loc, off, s) || found
		}
		return found
	}
	for _, loc := range rp.re.FindAllSubmatchIndex(w, -1) {
		found = rs.report(rp, p, loc, off, s) || found
	}
	return found
}

// report adds the span of one match of pattern p (its "match" group when
// it has one) unless it is empty for a pattern that cannot match empty.
func (rs *regexSet) report(rp *rePat, p int, loc []int, off int, s *sink) bool {
	g := 2 * rp.group
	if loc[g] < 0 {
		return false
	}
	if rp.group == 0 && loc[1] == loc[0] && rp.facts.minLen > 0 {
		return false
	}
	s.add(off+loc[g], off+loc[g+1], p)
	return true
}

// requiredAfter reports whether rest holds a byte of run pattern p's
// required set, without which no match of p can lie in rest.
func (rs *regexSet) requiredAfter(rest []byte, p int) bool {
	bit := uint64(1) << uint(p)
	for _, c := range rest {
		if rs.reqMask[c]&bit != 0 {
			return true
		}
	}
	return false
}
