package anthropic

import (
	"math"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Citations and server tool results are texts the model's answer carries
// that the model did not generate: a text block's citations (cited_text,
// a web page's url and title, a document's document_title), and the
// results of Anthropic's server tools (web_search_tool_result and the
// other *_tool_result blocks: a result's url, title, fetched text, a
// command's output). The client reads them, so output rules must too; they
// are referenced as TextToolArgs, as OpenAI's annotations and hosted tool
// texts are.

// wholePartBase numbers the Parts of a stream's citation and server tool
// result texts, far below every content block index.
const wholePartBase = math.MinInt64 / 2

// WholePart reports whether part is a stream's citation or server tool
// result text: whole in the event that carries it (citations_delta, a
// result block's content_block_start), so it is checked and sent there,
// never joined with another text or held for a later delta.
func WholePart(part int) bool {
	return part >= wholePartBase && part < wholePartBase+1<<40
}

// wholeSkip reports whether a member of a citation or a server tool result
// carries no text the client reads: the API's own words, identifiers and
// opaque encrypted payloads (which the client sends back as they are).
func wholeSkip(key []byte) bool {
	switch string(key) {
	case "type", "id", "tool_use_id", "file_id", "encrypted_content", "encrypted_index", "encrypted_stdout",
		"signature", "media_type":
		return true
	}
	return false
}

// wholeLeaves appends a ref to every string of v that is not under a
// wholeSkip member: Part is part when next is nil, else the next stream
// Part (*next counts them).
func wholeLeaves(dst []providers.TextRef, body []byte, v providers.Value, part int, next *int) []providers.TextRef {
	if v.Kind != providers.KindObject && v.Kind != providers.KindArray {
		return dst
	}
	s := providers.NewScanner(body[:v.End])
	s.Seek(v.Start)
	return wholeWalk(dst, &s, part, next)
}

func wholeWalk(dst []providers.TextRef, s *providers.Scanner, part int, next *int) []providers.TextRef {
	switch s.Peek() {
	case providers.KindString:
		p := part
		if next != nil {
			p = wholePartBase + *next
			*next++
		}
		return append(dst, s.Value().Ref(RoleAssistant, providers.TextToolArgs, 0, p))
	case providers.KindObject:
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			if wholeSkip(s.Key(k)) {
				s.Skip()
				continue
			}
			dst = wholeWalk(dst, s, part, next)
		}
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			dst = wholeWalk(dst, s, part, next)
		}
	default:
		s.Skip()
	}
	return dst
}
