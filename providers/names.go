package providers

import (
	"strconv"
)

// uniqueNames keeps the member names that masks rewrite (FormName edits of
// a key) unique within their object: two schema properties whose names
// mask to the same text ("ssn_123-45-6789" and "ssn_987-65-4321" both
// become "ssn__REDACTED_ssn_") would otherwise be one repeated key, which
// providers refuse (and JSON readers resolve by dropping one). The later
// of two equal names gets "_2", "_3", ... (in name form, so still a valid
// identifier), never a name the object already has. A schema's
// "required" list names its properties: each masked entry follows the
// name its property was given. Masked names that are values (tool and
// function names) are kept apart too (valuesApart). Only edits' texts
// change; the body is read once, and only when two or more names are
// masked.
func uniqueNames(body []byte, edits []Edit) {
	var at map[int]int // a FormName edit's literal start -> its index
	count, keys := 0, false
	for i, e := range edits {
		if e.Ref.Form != FormName {
			continue
		}
		if at == nil {
			at = make(map[int]int)
		}
		at[e.Ref.Start] = i
		count++
		keys = keys || memberName(body, e.Ref.End)
	}
	if !keys && count < 2 {
		// A masked member name may meet a name its object has; one
		// masked tool name cannot meet another.
		return
	}
	n := names{edits: edits, at: at}
	s := NewScanner(body)
	n.walk(&s)
	if s.Err() == nil {
		n.valuesApart()
	}
}

// memberName reports whether the literal ending at end is a member name:
// the next byte after white space is a colon.
func memberName(body []byte, end int) bool {
	for ; end < len(body); end++ {
		switch body[end] {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			return true
		}
		return false
	}
	return false
}

type names struct {
	edits []Edit
	at    map[int]int
	// values are the masked names that are member values, outside
	// required lists (tool and function names, in definitions, choices
	// and calls), with their original text, in body order.
	values []maskedValue
}

type maskedValue struct {
	edit int
	orig string
}

// valuesApart keeps masked tool names apart: two different names that
// mask alike ("lookup_123-45-6789", "lookup_234-56-7891") would be two
// tools of one name, which providers refuse, and calls could no longer
// say which. Every occurrence of one original name keeps one final name
// (definition, tool_choice and the calls in the history still agree); a
// later original whose mask is taken gets "_2", "_3", ...
func (n *names) valuesApart() {
	if len(n.values) < 2 {
		return
	}
	final := map[string]string{} // original -> final
	owner := map[string]string{} // final -> original
	for _, v := range n.values {
		f, ok := final[v.orig]
		if !ok {
			base := nameText(n.edits[v.edit].Text)
			f = base
			for i := 2; ; i++ {
				if o, taken := owner[f]; !taken || o == v.orig {
					break
				}
				f = base + "_" + strconv.Itoa(i)
			}
			final[v.orig], owner[f] = f, v.orig
		}
		if f != nameText(n.edits[v.edit].Text) {
			n.edits[v.edit].Text = []byte(f)
		}
	}
}

// nameText is a masked name as Splice writes it (appendName, unquoted).
func nameText(text []byte) string {
	b := appendName(nil, text)
	return string(b[1 : len(b)-1])
}

// walk reads the value at the scanner. For an object it returns what its
// masked member names became, by their original text (nil: none masked).
func (n *names) walk(s *Scanner) map[string]string {
	switch s.Peek() {
	case KindObject:
		type member struct {
			name string
			edit int // -1: not masked
		}
		var members []member
		var props map[string]string
		var required []Value
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			name := string(s.Key(k))
			edit, masked := n.at[k.Start]
			if !masked {
				edit = -1
			}
			members = append(members, member{name: name, edit: edit})
			switch {
			case name == "properties":
				props = n.walk(s)
			case name == "required" && s.Peek() == KindArray:
				arr := s.Array()
				for arr.Next() {
					if v := s.Value(); v.Kind == KindString {
						required = append(required, v)
					}
				}
			default:
				n.walk(s)
			}
		}
		if s.Err() != nil {
			return nil
		}
		for _, v := range required {
			i, ok := n.at[v.Start]
			if !ok {
				continue
			}
			if final, ok := props[string(s.Key(v))]; ok {
				n.edits[i].Text = []byte(final)
			}
		}
		var renamed map[string]string
		used := make(map[string]bool, len(members))
		for _, m := range members {
			if m.edit < 0 {
				used[m.name] = true
			}
		}
		for _, m := range members {
			if m.edit < 0 {
				continue
			}
			base := nameText(n.edits[m.edit].Text)
			final := base
			for i := 2; used[final]; i++ {
				final = base + "_" + strconv.Itoa(i)
			}
			used[final] = true
			if final != base {
				n.edits[m.edit].Text = []byte(final)
			}
			if renamed == nil {
				renamed = make(map[string]string)
			}
			renamed[m.name] = final
		}
		return renamed
	case KindArray:
		arr := s.Array()
		for arr.Next() {
			n.walk(s)
		}
	case KindString:
		v := s.Value()
		if i, ok := n.at[v.Start]; ok {
			n.values = append(n.values, maskedValue{edit: i, orig: string(s.Key(v))})
		}
	default:
		s.Skip()
	}
	return nil
}
