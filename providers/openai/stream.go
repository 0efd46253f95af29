package openai

import (
	"bytes"
	"math"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// StreamState accounts for one streamed response. Feed it the data of every
// server-sent event in order; Usage then returns the provider's usage
// report if the stream carried one (the last chunk with a "usage" object,
// Groq's x_groq.usage, or the response of response.completed,
// response.incomplete or response.failed), and otherwise an estimate: the
// caller's prompt estimate and the estimated tokens of every generated
// fragment seen (content, refusals, reasoning, tool arguments).
//
// A StreamState holds no reference to the data fed to it. It is not safe
// for concurrent use.
type StreamState struct {
	endpoint Endpoint
	prompt   int64
	usage    providers.Usage
	counted  int64
	cites    int
	done     bool
}

// NewStreamState returns the state for a stream of the given endpoint.
// promptEstimate is used when the stream reports no usage.
func NewStreamState(endpoint Endpoint, promptEstimate int64) *StreamState {
	st := &StreamState{}
	st.Reset(endpoint, promptEstimate)
	return st
}

// Reset prepares the state for a new stream.
func (st *StreamState) Reset(endpoint Endpoint, promptEstimate int64) {
	*st = StreamState{endpoint: endpoint, prompt: promptEstimate}
}

// Feed reads the data of one event and appends references to the
// generated text fragments in it to dst (see DeltaTexts). The "[DONE]"
// marker ends the stream. A malformed event returns an error and changes
// no accounting.
func (st *StreamState) Feed(dst []providers.TextRef, data []byte) ([]providers.TextRef, error) {
	if string(data) == "[DONE]" {
		st.done = true
		return dst, nil
	}
	w := walker{body: data, refs: dst, collect: true, estimate: true, gen: providers.TextDelta, cites: st.cites}
	var u providers.Usage
	terminal, err := scanEvent(&w, st.endpoint, &u)
	if err != nil {
		return dst, err
	}
	st.counted += w.tokens
	st.cites = w.cites
	if u.Reported {
		st.usage = u
	}
	if terminal {
		st.done = true
	}
	return w.refs, nil
}

// Usage returns the usage so far: reported (Reported true) when the
// provider sent it, otherwise estimated.
func (st *StreamState) Usage() providers.Usage {
	if st.usage.Reported {
		return st.usage
	}
	return providers.Usage{PromptTokens: st.prompt, CompletionTokens: st.counted}
}

// Counted returns the estimated tokens of the generated fragments seen.
func (st *StreamState) Counted() int64 { return st.counted }

// Done reports whether the stream's end was seen: "[DONE]", or a terminal
// responses event.
func (st *StreamState) Done() bool { return st.done }

// DeltaTexts appends to dst references to the generated text fragments in
// one event's data, relative to data:
//   - chat chunks: choices[].delta content, refusal (TextDelta), reasoning
//     or reasoning_content (TextReasoning), tool_calls[].function.arguments
//     (TextToolArgs, Part = the tool call index), and the strings of
//     annotations (a web search's url_citation url and title: TextToolArgs,
//     Part a CitationPart, numbered through the stream by Feed, from 0 by
//     DeltaTexts); Index is the choice index; the message of an error
//     chunk is a CitationPart text too;
//   - completions chunks: choices[].text (TextDelta);
//   - responses events: the delta of response.output_text.delta and
//     response.refusal.delta (TextDelta), of
//     response.function_call_arguments.delta and
//     response.custom_tool_call_input.delta (TextToolArgs), and of
//     response.reasoning_summary_text.delta and
//     response.reasoning_text.delta (TextReasoning); Index is
//     output_index and Part content_index (or summary_index).
func DeltaTexts(dst []providers.TextRef, data []byte, endpoint Endpoint) ([]providers.TextRef, error) {
	var n int
	return StreamTexts(dst, data, endpoint, &n)
}

// StreamTexts is DeltaTexts numbering the CitationParts from *next, so a
// caller that feeds it every event of a stream gets a Part of its own for
// each citation and error text (as Feed does).
func StreamTexts(dst []providers.TextRef, data []byte, endpoint Endpoint, next *int) ([]providers.TextRef, error) {
	if string(data) == "[DONE]" {
		return dst, nil
	}
	w := walker{body: data, refs: dst, collect: true, gen: providers.TextDelta, cites: *next}
	var u providers.Usage
	if _, err := scanEvent(&w, endpoint, &u); err != nil {
		return dst, err
	}
	*next = w.cites
	return w.refs, nil
}

// scanEvent walks one event. It reports whether the event ends a responses
// stream and fills u when the event carries usage.
func scanEvent(w *walker, ep Endpoint, u *providers.Usage) (terminal bool, err error) {
	w.s = providers.NewScanner(w.body)
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return false, orType(w)
	}
	if ep == Responses {
		return responsesEvent(w, u)
	}
	start := len(w.refs)
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "choices":
			w.choices()
		case "usage":
			if err := readUsage(s, u); err != nil {
				return false, err
			}
		case "x_groq":
			if err := usageWithin(s, u); err != nil {
				return false, err
			}
		case "error":
			w.streamError()
		}
	}
	if err := s.Finish(); err != nil {
		w.refs = w.refs[:start]
		return false, err
	}
	for i := start; i < len(w.refs); i++ {
		w.refs[i].Role = RoleAssistant
	}
	return false, nil
}

// streamError references the message of an error a chat stream carries
// mid-stream ({"error":{"message",...}}, or {"error":"..."}): the client
// reads it (a translated stream's error event repeats it), and a provider
// may quote the request back in it. It is whole in its chunk, like a
// citation (CitationPart), and no generated token.
func (w *walker) streamError() {
	s := &w.s
	switch s.Peek() {
	case providers.KindString: // {"error":"..."}, as some hosts send it
		w.streamErrorText(s.Value())
		return
	case providers.KindObject:
	default:
		s.Skip()
		return
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) != "message" {
			s.Skip()
			continue
		}
		w.streamErrorText(s.Value())
	}
}

func (w *walker) streamErrorText(v providers.Value) {
	if v.Kind != providers.KindString || w.gen != providers.TextDelta {
		return
	}
	estimate := w.estimate
	w.estimate = false
	w.text(v, RoleAssistant, providers.TextToolArgs, 0, citationPartBase+w.cites)
	w.estimate = estimate
	w.cites++
}

// usageWithin reads the "usage" member of the object at the scanner.
func usageWithin(s *providers.Scanner, u *providers.Usage) error {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return s.Err()
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) == "usage" {
			if err := readUsage(s, u); err != nil {
				return err
			}
		}
	}
	return s.Err()
}

// responsesEvent walks a responses API stream event. Members may come in
// any order, so the delta is classified once the type is known.
func responsesEvent(w *walker, u *providers.Usage) (bool, error) {
	s := &w.s
	var typ, delta providers.Value
	output, part := -1, -1
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "type":
			typ = s.Value()
		case "delta":
			delta = s.Value()
		case "output_index":
			if n, err := s.Value().Int(w.body); err == nil {
				output = int(n)
			}
		case "content_index", "summary_index", "command_index":
			if n, err := s.Value().Int(w.body); err == nil {
				part = int(n)
			}
		case "response":
			if err := usageWithin(s, u); err != nil {
				return false, err
			}
		}
	}
	if err := s.Finish(); err != nil {
		return false, err
	}
	kind := ""
	switch {
	case typ.Equal(w.body, "response.output_text.delta"), typ.Equal(w.body, "response.refusal.delta"):
		kind = providers.TextDelta
	case typ.Equal(w.body, "response.function_call_arguments.delta"), typ.Equal(w.body, "response.custom_tool_call_input.delta"):
		kind = providers.TextToolArgs
	case typ.Equal(w.body, "response.reasoning_summary_text.delta"), typ.Equal(w.body, "response.reasoning_text.delta"):
		kind = providers.TextReasoning
	default:
		kind = hostedKind(typ.Raw(w.body), ".delta")
	}
	if kind != "" && delta.Kind == providers.KindString {
		w.text(delta, RoleAssistant, kind, output, part)
	}
	if kind == providers.TextToolArgs && delta.Kind == providers.KindObject {
		// response.shell_call_output_content.delta: {"stdout", "stderr"}
		w.s = providers.NewScanner(w.body)
		w.s.Seek(delta.Start)
		w.shellStreams(output, part)
		if err := w.s.Err(); err != nil {
			return false, err
		}
	}
	terminal := typ.Equal(w.body, "response.completed") || typ.Equal(w.body, "response.incomplete") ||
		typ.Equal(w.body, "response.failed")
	return terminal, nil
}

// hostedKind classifies the events of hosted tools and audio that carry
// generated text in a string (code interpreter code, MCP call arguments,
// audio transcripts, and any later "response.*<suffix>" event of the kind),
// so output rules read them too: transcripts are TextDelta, the rest
// TextToolArgs. Audio bytes (response.audio.delta,
// response.output_audio.delta) are not text and get "". typ is the raw
// JSON string, quotes included; nothing is allocated.
func hostedKind(typ []byte, suffix string) string {
	if len(typ) < 2 || typ[0] != '"' || typ[len(typ)-1] != '"' {
		return ""
	}
	t := typ[1 : len(typ)-1]
	switch {
	case !bytes.HasPrefix(t, []byte("response.")) || !bytes.HasSuffix(t, []byte(suffix)):
		return ""
	case bytes.Equal(t[:len(t)-len(suffix)], []byte("response.audio")),
		bytes.Equal(t[:len(t)-len(suffix)], []byte("response.output_audio")):
		return ""
	case bytes.Contains(t, []byte("transcript")):
		return providers.TextDelta
	}
	return providers.TextToolArgs
}

// citationPartBase numbers the Parts of a chat stream's citation texts,
// far from every other Part (tool calls, hosted items, otherPart).
const citationPartBase = math.MinInt64 / 2

// CitationPart reports whether part is a chat stream citation's: a whole
// text (a url_citation's url or title) that is checked and sent in the
// event that carries it, never joined with another or held for a later
// delta.
func CitationPart(part int) bool {
	return part >= citationPartBase && part < citationPartBase+1<<40
}
