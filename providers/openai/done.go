package openai

import (
	"github.com/tokenomics-dev/tokenomics/providers"
)

// DoneTexts appends to dst references to the generated texts that a
// responses stream event repeats in full once they are complete, keyed as
// DeltaTexts keys the deltas that built them, so a filter can replace each
// with what its deltas became:
//   - response.output_text.done (text) and response.refusal.done
//     (refusal): TextDelta, Index output_index, Part content_index;
//   - response.function_call_arguments.done (arguments) and
//     response.custom_tool_call_input.done (input): TextToolArgs, Part -1;
//   - response.reasoning_summary_text.done and response.reasoning_text.done
//     (text): TextReasoning, Part summary_index or content_index;
//   - response.content_part.done and response.reasoning_summary_part.done:
//     the text and refusal of part;
//   - response.output_item.done: every text of item (see ResponseTexts);
//   - response.completed, response.incomplete and response.failed: every
//     text of response.output;
//   - the .done events of hosted tools and audio transcripts (hostedKind):
//     code, arguments or input (TextToolArgs, Part -1), transcript
//     (TextDelta, Part content_index).
//
// Other events append nothing. Role is "assistant".
func DoneTexts(dst []providers.TextRef, data []byte) ([]providers.TextRef, error) {
	w := walker{body: data, refs: dst, collect: true, gen: providers.TextDelta}
	w.s = providers.NewScanner(data)
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return dst, orType(&w)
	}
	var typ, text, refusal, args, input, code, transcript, part, item, response providers.Value
	output, content, summary := -1, -1, -1
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "type":
			typ = s.Value()
		case "text":
			text = s.Value()
		case "refusal":
			refusal = s.Value()
		case "arguments":
			args = s.Value()
		case "input":
			input = s.Value()
		case "code":
			code = s.Value()
		case "transcript":
			transcript = s.Value()
		case "part":
			part = s.Value()
		case "item":
			item = s.Value()
		case "response":
			response = s.Value()
		case "output_index":
			output = intOr(s.Value(), data, -1)
		case "content_index":
			content = intOr(s.Value(), data, -1)
		case "summary_index":
			summary = intOr(s.Value(), data, -1)
		}
	}
	if err := s.Finish(); err != nil {
		return dst, err
	}
	const (
		none = iota
		inPart
		inItem
		inResponse
	)
	var one providers.Value // a text of its own
	kind, p := "", -1
	nested, in := providers.Value{}, none
	switch {
	case typ.Equal(data, "response.output_text.done"):
		one, kind, p = text, providers.TextDelta, content
	case typ.Equal(data, "response.refusal.done"):
		one, kind, p = refusal, providers.TextDelta, content
	case typ.Equal(data, "response.function_call_arguments.done"):
		one, kind = args, providers.TextToolArgs
	case typ.Equal(data, "response.custom_tool_call_input.done"):
		one, kind = input, providers.TextToolArgs
	case typ.Equal(data, "response.reasoning_summary_text.done"):
		one, kind, p = text, providers.TextReasoning, summary
	case typ.Equal(data, "response.reasoning_text.done"):
		one, kind, p = text, providers.TextReasoning, content
	case typ.Equal(data, "response.content_part.done"):
		nested, in, kind, p = part, inPart, providers.TextDelta, content
		if partType(data, part, "reasoning_text") {
			kind = providers.TextReasoning
		}
	case typ.Equal(data, "response.reasoning_summary_part.done"):
		nested, in, kind, p = part, inPart, providers.TextReasoning, summary
	case typ.Equal(data, "response.output_item.done"):
		nested, in = item, inItem
	case typ.Equal(data, "response.completed"), typ.Equal(data, "response.incomplete"),
		typ.Equal(data, "response.failed"):
		nested, in = response, inResponse
	default:
		// Hosted tools and audio (hostedKind): the complete text is under
		// the member their kind of event names.
		switch kind = hostedKind(typ.Raw(data), ".done"); kind {
		case providers.TextDelta:
			one, p = transcript, content
		case providers.TextToolArgs:
			one = firstString(code, args, input, text)
		}
	}
	if one.Kind == providers.KindString {
		w.text(one, RoleAssistant, kind, output, p)
	}
	if in != none && nested.Kind == providers.KindObject {
		w.s = providers.NewScanner(data)
		w.s.Seek(nested.Start)
		switch in {
		case inPart:
			w.part(output, p, kind)
		case inItem:
			w.outputItem(output)
		case inResponse:
			w.responseOutput()
		}
	}
	if err := w.s.Err(); err != nil {
		return dst, err
	}
	for i := len(dst); i < len(w.refs); i++ {
		w.refs[i].Role = RoleAssistant
	}
	return w.refs, nil
}

// responseOutput reads the output items of the response object at the
// scanner.
func (w *walker) responseOutput() {
	s := &w.s
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) == "output" {
			w.outputItems()
		}
	}
}

// partType reports whether the part object v has the given type.
func partType(data []byte, v providers.Value, typ string) bool {
	if v.Kind != providers.KindObject {
		return false
	}
	s := providers.NewScanner(data)
	s.Seek(v.Start)
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			return false
		}
		if string(s.Key(k)) == "type" {
			return s.Value().Equal(data, typ)
		}
	}
}

func intOr(v providers.Value, data []byte, or int) int {
	if n, err := v.Int(data); err == nil {
		return int(n)
	}
	return or
}

// firstString is the first of vs that is a JSON string, or the zero Value.
func firstString(vs ...providers.Value) providers.Value {
	for _, v := range vs {
		if v.Kind == providers.KindString {
			return v
		}
	}
	return providers.Value{}
}
