package openai

import (
	"bytes"
	"math"

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
//     text of response.output, and response.error's message;
//   - error (an error mid-stream): its string members but identifiers
//     (TextToolArgs, Part by sequence_number);
//   - response.output_item.added: as .done (a hosted tool's item may
//     carry texts when it is added);
//   - the .done events of hosted tools and audio transcripts (hostedKind):
//     code, arguments, input or command (TextToolArgs, Part -1 or the
//     command_index), any other string member of a kind not known here,
//     a shell output's stdout and stderr (shellPart), transcript
//     (TextDelta, Part content_index); response.shell_call_command.added's
//     command;
//   - response.output_text.annotation.added: the annotation's strings
//     (TextToolArgs, Part apart from any item's);
//   - any other "response.*" event that is not audio: its string members
//     but identifiers and "delta" (TextToolArgs, Part by sequence_number),
//     so a later kind of event carries no text unread.
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
	var typ, text, refusal, args, input, code, transcript, command, part, item, response, annotation, out providers.Value
	output, content, summary, cmd, annIdx, seq := -1, -1, -1, -1, -1, -1
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
		case "command":
			command = s.Value()
		case "annotation":
			annotation = s.Value()
		case "output":
			out = s.Value()
		case "command_index":
			cmd = intOr(s.Value(), data, -1)
		case "annotation_index":
			annIdx = intOr(s.Value(), data, -1)
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
		case "sequence_number":
			seq = intOr(s.Value(), data, -1)
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
		inAnnotation
		inHostedDone
		inShellOutput
		inOther
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
	case typ.Equal(data, "response.output_item.done"), typ.Equal(data, "response.output_item.added"):
		// An added item is mostly empty, but a hosted tool's may carry
		// its texts already (a web search's action, a tool list).
		nested, in = item, inItem
	case typ.Equal(data, "response.shell_call_command.added"):
		one, kind, p = command, providers.TextToolArgs, cmd
	case annotation.Kind == providers.KindObject:
		// response.output_text.annotation.added: a citation's title and
		// URL, keyed apart from every item walk's texts.
		nested, in, kind = annotation, inAnnotation, providers.TextToolArgs
	case typ.Equal(data, "response.completed"), typ.Equal(data, "response.incomplete"),
		typ.Equal(data, "response.failed"):
		nested, in = response, inResponse
	case typ.Equal(data, "error"):
		// An error mid-stream: its message (and any other string but
		// identifiers) reaches the client, and a provider may quote the
		// request back in it.
		kind, p = providers.TextToolArgs, otherPart(seq, 0)
		nested, in = providers.Value{Start: 0, Kind: providers.KindObject}, inOther
	default:
		// Hosted tools and audio (hostedKind): the complete text is under
		// the member their kind of event names.
		switch kind = hostedKind(typ.Raw(data), ".done"); kind {
		case providers.TextDelta:
			one, p = transcript, content
		case providers.TextToolArgs:
			one, p = firstString(code, args, input, text, command), cmd
			if one.Kind != providers.KindString {
				// A kind of .done event not known here: every string
				// member that is not an identifier is its text.
				nested, in = providers.Value{Start: 0, Kind: providers.KindObject}, inHostedDone
			}
			if out.Kind == providers.KindArray {
				// response.shell_call_output_content.done
				nested, in = out, inShellOutput
			}
		case "":
			if otherEvent(typ.Raw(data)) {
				// An event kind not known here (a hosted tool's later
				// progress event): its string members are read too, so
				// no text reaches the client unread.
				kind, p = providers.TextToolArgs, otherPart(seq, 0)
				nested, in = providers.Value{Start: 0, Kind: providers.KindObject}, inOther
			}
		}
	}
	if one.Kind == providers.KindString {
		w.text(one, RoleAssistant, kind, output, p)
	}
	if in != none && (nested.Kind == providers.KindObject || in == inShellOutput) {
		w.s = providers.NewScanner(data)
		w.s.Seek(nested.Start)
		switch in {
		case inPart:
			w.part(output, p, kind)
		case inItem:
			w.outputItem(output)
		case inResponse:
			w.responseOutput()
			if w.s.Err() == nil {
				w.responseError(data, response, otherPart(seq, 63))
			}
		case inAnnotation:
			w.hosted = hostedAnnotationBase + (max(content, 0) << 12) + (max(annIdx, 0) << 4)
			w.hostedTree(output)
		case inHostedDone:
			w.hostedDone(output, p, hostedExtraPart)
		case inOther:
			w.hostedDone(output, p, func(n int) int { return otherPart(seq, n) })
		case inShellOutput:
			w.shellOutput(output, cmd)
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

// hostedDone reads the .done event of a hosted tool whose text member is
// not one of those named in DoneTexts: each string member that hostedSkip
// does not skip, Part p (as its deltas).
func (w *walker) hostedDone(idx, p int, extra func(n int) int) {
	s := &w.s
	n := 0
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		v := s.Value()
		if v.Kind != providers.KindString || hostedSkip(s.Key(k)) || string(s.Key(k)) == "delta" {
			continue
		}
		part := p
		if n > 0 {
			// No deltas built a second string: its own filter.
			part = extra(n)
		}
		n++
		w.text(v, RoleAssistant, providers.TextToolArgs, idx, part)
	}
}

// responseError references the message of the response object's error
// (response.failed's), Part p: it reaches the client like any text.
func (w *walker) responseError(data []byte, response providers.Value, p int) {
	s := providers.NewScanner(data[:response.End])
	s.Seek(response.Start)
	if s.Peek() != providers.KindObject {
		return
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) != "error" || s.Peek() != providers.KindObject {
			s.Skip()
			continue
		}
		eobj := s.Object()
		for {
			ek, ok := eobj.Next()
			if !ok {
				break
			}
			isMessage := string(s.Key(ek)) == "message"
			if v := s.Value(); isMessage && v.Kind == providers.KindString {
				w.text(v, RoleAssistant, providers.TextToolArgs, -1, p)
			}
		}
	}
}

// otherEvent reports whether a Responses event of a type DoneTexts does
// not know may carry text: a "response.*" event that is not audio bytes
// (a delta of text is Feed's, so "delta" members are never read here).
func otherEvent(typ []byte) bool {
	if len(typ) < 2 || typ[0] != '"' || typ[len(typ)-1] != '"' {
		return false
	}
	t := typ[1 : len(typ)-1]
	switch string(t) {
	case "response.created", "response.in_progress", "response.queued":
		return false // the response object only, no text yet: not scanned again
	}
	return bytes.HasPrefix(t, []byte("response.")) &&
		(!bytes.Contains(t, []byte("audio")) || bytes.Contains(t, []byte("transcript")))
}

// otherPart keys the n-th text of an event of a kind not known here by
// the event's sequence number: each such text has a filter of its own.
func otherPart(seq, n int) int { return math.MinInt64/4 + seq*64 + n }

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
