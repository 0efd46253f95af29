package proxy

import (
	"slices"

	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// A model reads the text parts of one message as one text, so a secret
// or an injection split across parts ("123-45-" + "6789") must be seen
// whole. joinParts adds, for each message whose text sits in several
// parts, two more rule texts: the parts run together, and the parts run
// together except where that would glue two words or numbers into one
// (there a line break keeps them apart), so a split secret is found even
// when a neighbouring part ends in a letter or digit. splitJoined then
// turns the edits rules made on a joined text into edits of its parts.

// joinGroup is one joined text: made of texts [first, first+n); smart
// says where parts are kept apart (see sep).
type joinGroup struct {
	first, n int
	smart    bool
}

// sep returns the separator the group puts before part k (k > first).
func (x *exchange) sep(g joinGroup, k int) string {
	if !g.smart {
		return ""
	}
	prev, next := x.texts[k-1].Data, x.texts[k].Data
	if len(prev) > 0 && len(next) > 0 && wordByte(prev[len(prev)-1]) && wordByte(next[0]) {
		return "\n"
	}
	return ""
}

// wordByte reports a byte that regular expressions' \w matches, or part of
// a non-ASCII character (treated as a letter).
func wordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

// joinParts appends the joined texts after x.texts[:len(x.refs)].
func (x *exchange) joinParts() {
	x.groups = x.groups[:0]
	x.joined = x.joined[:0]
	n := len(x.refs)
	for i := 0; i < n; {
		j := i + 1
		r := x.refs[i]
		// Parts of a message, or blocks of a system prompt (index -1).
		// Fields (names, URLs, documents) are never joined: see
		// providers.OrderRequestRefs.
		joinable := r.Part >= 0 && (r.Index >= 0 || r.Kind == providers.TextSystem) && r.Form == providers.FormText
		for j < n && joinable && x.refs[j].Index == r.Index && x.refs[j].Kind == r.Kind &&
			x.refs[j].Role == r.Role && x.refs[j].Part >= 0 && x.refs[j].Form == providers.FormText {
			j++
		}
		if j-i > 1 {
			for _, smart := range [...]bool{false, true} {
				g := joinGroup{first: i, n: j - i, smart: smart}
				x.groups = append(x.groups, g)
				for k := i; k < j; k++ {
					if k > i {
						x.joined = append(x.joined, x.sep(g, k)...)
					}
					x.joined = append(x.joined, x.texts[k].Data...)
				}
			}
		}
		i = j
	}
	// Slices of x.joined are taken after it stops growing.
	off := 0
	for g := range x.groups {
		grp := &x.groups[g]
		size := 0
		for k := grp.first; k < grp.first+grp.n; k++ {
			if k > grp.first {
				size += len(x.sep(*grp, k))
			}
			size += len(x.texts[k].Data)
		}
		first := x.texts[grp.first]
		x.texts = append(x.texts, rules.Text{Data: x.joined[off : off+size : off+size], Role: first.Role, Kind: first.Kind})
		off += size
	}
}

// splitJoined maps edits on joined texts onto their parts, drops the
// joined texts, and leaves the edits sorted and disjoint as Apply wants.
func (x *exchange) splitJoined() {
	if len(x.groups) == 0 {
		return
	}
	v := &x.verdict
	n := len(x.refs)
	edits := v.Edits
	kept := len(edits)
	for i := 0; i < kept; i++ {
		e := edits[i]
		if e.Text < n {
			continue
		}
		grp := x.groups[e.Text-n]
		// Cut [e.Start, e.End) of the joined text along part boundaries;
		// the first piece carries the replacement, the others are removed.
		pos := 0
		repl := e.Replacement
		for k := grp.first; k < grp.first+grp.n; k++ {
			if k > grp.first {
				pos += len(x.sep(grp, k))
			}
			size := len(x.texts[k].Data)
			s, t := max(e.Start, pos)-pos, min(e.End, pos+size)-pos
			if s < t || s == t && e.Start == e.End && s < size {
				v.Edits = append(v.Edits, rules.Edit{Text: k, Start: s, End: t, Replacement: repl})
				repl = nil
			}
			pos += size
		}
	}
	v.Edits = slices.DeleteFunc(v.Edits, func(e rules.Edit) bool { return e.Text >= n })
	slices.SortStableFunc(v.Edits, func(a, b rules.Edit) int {
		if a.Text != b.Text {
			return a.Text - b.Text
		}
		return a.Start - b.Start
	})
	out := v.Edits[:0]
	for _, e := range v.Edits {
		if len(out) > 0 {
			last := &out[len(out)-1]
			if last.Text == e.Text && e.Start < last.End {
				if e.End-e.Start > last.End-last.Start {
					last.Replacement = e.Replacement
				}
				last.End = max(last.End, e.End)
				continue
			}
		}
		out = append(out, e)
	}
	v.Edits = out
	if len(v.Edits) > 0 && v.Action == rules.Allow {
		v.Action = rules.Mask
	}
	x.texts = x.texts[:n]
}
