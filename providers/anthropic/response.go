package anthropic

import (
	"github.com/tokenomics-dev/tokenomics/providers"
)

// ResponseTexts appends to dst a reference to every generated text of a
// non-streamed Messages response: text blocks (TextCompletion), the string
// leaves of tool_use inputs (TextToolArgs) and thinking blocks
// (TextReasoning; masking them breaks their signature if the client sends
// them back, so output rules should only read them). Index is 0 and Part
// the content block position.
func ResponseTexts(dst []providers.TextRef, body []byte) ([]providers.TextRef, error) {
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return dst, errOrType(&s)
	}
	refs := dst
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) != "content" || s.Peek() != providers.KindArray {
			continue
		}
		arr := s.Array()
		for arr.Next() {
			refs = responseBlock(refs, &s, arr.Index())
		}
	}
	if err := s.Finish(); err != nil {
		return dst, err
	}
	return refs, nil
}

func responseBlock(refs []providers.TextRef, s *providers.Scanner, part int) []providers.TextRef {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return refs
	}
	body := s.Body()
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "text":
			if v := s.Value(); v.Kind == providers.KindString {
				refs = append(refs, v.Ref(RoleAssistant, providers.TextCompletion, 0, part))
			}
		case "thinking":
			if v := s.Value(); v.Kind == providers.KindString {
				refs = append(refs, v.Ref(RoleAssistant, providers.TextReasoning, 0, part))
			}
		case "input":
			if v := s.Value(); v.Kind == providers.KindObject {
				refs = appendTree(refs, body, v, providers.TextToolArgs, 0, part, noKeys, providers.FormText)
			}
		case "citations", "content":
			// A text block's citations, a server tool result's content
			// (see cite.go).
			refs = wholeLeaves(refs, body, s.Value(), part, nil)
		}
	}
	return refs
}
