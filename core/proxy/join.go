package proxy

import (
	"slices"

	"github.com/tokenomics-dev/tokenomics/core/rules"
)

// A model reads the text parts of one message as one text, so a secret
// or an injection split across parts ("123-45-" + "6789") must be seen
// whole. joinParts adds, for each message whose text sits in several
// parts, one more rule text: the parts' concatenation. splitJoined then
// turns the edits rules made on a joined text into edits of its parts.

// joinGroup is one joined text: rule text at, made of texts [first, first+n).
type joinGroup struct {
	at, first, n int
}

// joinParts appends the joined texts after x.texts[:len(x.refs)].
func (x *exchange) joinParts() {
	x.groups = x.groups[:0]
	x.joined = x.joined[:0]
	n := len(x.refs)
	for i := 0; i < n; {
		j := i + 1
		r := x.refs[i]
		for j < n && r.Index >= 0 && r.Part >= 0 && x.refs[j].Index == r.Index && x.refs[j].Kind == r.Kind &&
			x.refs[j].Role == r.Role && x.refs[j].Part >= 0 {
			j++
		}
		if j-i > 1 {
			x.groups = append(x.groups, joinGroup{first: i, n: j - i})
			for k := i; k < j; k++ {
				x.joined = append(x.joined, x.texts[k].Data...)
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
			size += len(x.texts[k].Data)
		}
		first := x.texts[grp.first]
		grp.at = len(x.texts)
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
