package hub

import (
	"slices"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Texts appends a reference to every text of the body that the encoders
// copy into the provider's request: system texts, message texts, tool call
// names and arguments (the literal, or each member name and string inside
// an object), tool results, image URLs, tool names, descriptions and
// schemas (member names and strings), the tool choice's name, the output
// format's name, description and schema, stop sequences and the end-user
// id. Policy prompts are not in the body. Call ids and image data (a
// base64 image or PDF) are not text.
//
// The content rules read the client's body with the format adapters'
// walkers (openai.RequestTexts, anthropic.RequestTexts); Covered checks
// that they saw everything the hub will send, so a translated request can
// never carry a text the rules skipped.
func (r *Request) Texts(dst []providers.TextRef) []providers.TextRef {
	b := r.Body
	add := func(v providers.Value, role, kind string, part int) {
		if v.Kind == providers.KindString {
			dst = append(dst, v.Ref(role, kind, -1, part))
		}
	}
	for _, s := range r.System {
		add(s.V, "system", providers.TextSystem, -1)
	}
	for _, m := range r.Messages {
		role := m.Role.String()
		for i := m.From; i < m.To; i++ {
			p := &r.Parts[i]
			switch p.Kind {
			case PartText:
				add(p.Text.V, role, providers.TextMessage, i)
			case PartImage:
				if p.URL.Kind == providers.KindString {
					if d, err := providers.DataURL(b, p.URL); err != nil || d == providers.DataNone || d == providers.DataText {
						add(p.URL, role, providers.TextMessage, i)
					}
				}
			case PartToolCall:
				add(p.Name, role, providers.TextToolArgs, i)
				if p.Args.Kind == providers.KindObject {
					dst = leafRefs(dst, b, p.Args, role, providers.TextToolArgs, i, false)
				} else {
					add(p.Args, role, providers.TextToolArgs, i)
				}
			case PartToolResult:
				add(p.Text.V, role, providers.TextMessage, i)
				if p.Result.Kind == providers.KindArray {
					s := scanAt(b, p.Result)
					arr := s.Array()
					for arr.Next() {
						text, _, _ := partFields(&s)
						add(text, role, providers.TextMessage, i)
					}
				}
			}
		}
	}
	for i, t := range r.Tools {
		add(t.Name, "system", providers.TextToolDef, i)
		add(t.Description, "system", providers.TextToolDef, i)
		if t.Schema.Kind == providers.KindObject {
			dst = leafRefs(dst, b, t.Schema, "system", providers.TextToolDef, i, true)
		}
	}
	if r.Choice == ChoiceNamed {
		add(r.ChoiceName, "system", providers.TextToolDef, -1)
	}
	for i, v := range r.Stop {
		add(v, "user", providers.TextMeta, i)
	}
	add(r.User, "user", providers.TextMeta, -1)
	if r.Format.Kind == FormatJSONSchema {
		add(r.Format.Name, "system", providers.TextToolDef, -1)
		add(r.Format.Description, "system", providers.TextToolDef, -1)
		dst = leafRefs(dst, b, r.Format.Schema, "system", providers.TextToolDef, -1, true)
	}
	return dst
}

// leafRefs lists the member names and strings of v; in a schema, member
// names that are schema keywords are left out, as the walkers do.
func leafRefs(dst []providers.TextRef, body []byte, v providers.Value, role, kind string, part int, schema bool) []providers.TextRef {
	s := scanAt(body, v)
	return leaves(dst, &s, role, kind, part, schema)
}

func leaves(dst []providers.TextRef, s *providers.Scanner, role, kind string, part int, schema bool) []providers.TextRef {
	switch s.Peek() {
	case providers.KindString:
		return append(dst, s.Value().Ref(role, kind, -1, part))
	case providers.KindObject:
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			if !schema || !providers.IsSchemaKeyword(s.Body(), k) {
				dst = append(dst, k.Ref(role, kind, -1, part))
			}
			dst = leaves(dst, s, role, kind, part, schema)
		}
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			dst = leaves(dst, s, role, kind, part, schema)
		}
	default:
		s.Skip()
	}
	return dst
}

// Covered reports whether every text of texts is one of checked (by its
// span in the body), returning the first that is not. The walkers list
// checked in two runs, each in body order (texts, then fields: see
// providers.OrderRequestRefs); those are searched in place, anything else
// is sorted in a copy.
func Covered(texts, checked []providers.TextRef) (providers.TextRef, bool) {
	split := len(checked)
	for i := 1; i < len(checked); i++ {
		if checked[i].Start < checked[i-1].Start {
			split = i
			break
		}
	}
	a, b := checked[:split], checked[split:]
	if !slices.IsSortedFunc(b, byStart) {
		return coveredSorted(texts, checked)
	}
	for _, t := range texts {
		if !hasStart(a, t.Start) && !hasStart(b, t.Start) {
			return t, false
		}
	}
	return providers.TextRef{}, true
}

func byStart(x, y providers.TextRef) int { return x.Start - y.Start }

func hasStart(refs []providers.TextRef, start int) bool {
	_, found := slices.BinarySearchFunc(refs, start, func(r providers.TextRef, s int) int { return r.Start - s })
	return found
}

func coveredSorted(texts, checked []providers.TextRef) (providers.TextRef, bool) {
	starts := make([]int, len(checked))
	for i, c := range checked {
		starts[i] = c.Start
	}
	slices.Sort(starts)
	for _, t := range texts {
		if _, found := slices.BinarySearch(starts, t.Start); !found {
			return t, false
		}
	}
	return providers.TextRef{}, true
}
