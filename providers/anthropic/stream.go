package anthropic

import (
	"github.com/tokenomics-dev/tokenomics/providers"
)

type eventType uint8

const (
	evUnknown eventType = iota
	evMessageStart
	evBlockStart
	evBlockDelta
	evBlockStop
	evMessageDelta
	evMessageStop
	evPing
	evError
)

var eventNames = [...]string{
	evMessageStart: "message_start",
	evBlockStart:   "content_block_start",
	evBlockDelta:   "content_block_delta",
	evBlockStop:    "content_block_stop",
	evMessageDelta: "message_delta",
	evMessageStop:  "message_stop",
	evPing:         "ping",
	evError:        "error",
}

// event is one parsed stream event. Values are spans in the event's data.
type event struct {
	typ        eventType
	index      int
	blockType  providers.Value // content_block.type
	deltaType  providers.Value // delta.type
	text       providers.Value // text, thinking or partial_json fragment
	id, name   providers.Value // tool_use id and name, or message id
	model      providers.Value
	stopReason providers.Value
	usage      rawUsage
	errType    providers.Value
	errMessage providers.Value
	// Texts whole in the event (cite.go): a citations_delta's citation, a
	// content block's citations or content (a server tool result), a
	// message_start's content, and a tool block's input when it opens with
	// one (the API streams it in input_json_delta fragments and opens with
	// {}, but what a provider sends there reaches the client too).
	cite, content, input providers.Value
}

// parseEvent reads one event's data. Members may come in any order.
func parseEvent(data []byte, ev *event) error {
	*ev = event{index: -1}
	s := providers.NewScanner(data)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(&s)
	}
	var typ providers.Value
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		var err error
		switch string(s.Key(k)) {
		case "type":
			typ = s.Value()
		case "index":
			if n, ierr := s.Value().Int(data); ierr == nil {
				ev.index = int(n)
			}
		case "message":
			err = eventMessage(&s, ev)
		case "content_block":
			err = eventInner(&s, ev, true)
		case "delta":
			err = eventInner(&s, ev, false)
		case "usage":
			err = readUsage(&s, &ev.usage)
		case "error":
			err = eventError(&s, ev)
		}
		if err != nil {
			return err
		}
	}
	if err := s.Finish(); err != nil {
		return err
	}
	for t, name := range eventNames {
		if name != "" && typ.Equal(data, name) {
			ev.typ = eventType(t)
			break
		}
	}
	return nil
}

func eventMessage(s *providers.Scanner, ev *event) error {
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
		switch string(s.Key(k)) {
		case "id":
			ev.id = s.Value()
		case "model":
			ev.model = s.Value()
		case "content":
			ev.content = s.Value()
		case "usage":
			if err := readUsage(s, &ev.usage); err != nil {
				return err
			}
		}
	}
	return s.Err()
}

// eventInner reads content_block (block true) or delta.
func eventInner(s *providers.Scanner, ev *event, block bool) error {
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
		switch string(s.Key(k)) {
		case "type":
			if block {
				ev.blockType = s.Value()
			} else {
				ev.deltaType = s.Value()
			}
		case "text", "thinking", "partial_json":
			if v := s.Value(); v.Kind == providers.KindString {
				ev.text = v
			}
		case "id":
			ev.id = s.Value()
		case "name":
			ev.name = s.Value()
		case "stop_reason":
			ev.stopReason = s.Value()
		case "citation", "citations":
			ev.cite = s.Value()
		case "content":
			ev.content = s.Value()
		case "input":
			if block {
				ev.input = s.Value()
			}
		}
	}
	return s.Err()
}

func eventError(s *providers.Scanner, ev *event) error {
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
		switch string(s.Key(k)) {
		case "type":
			ev.errType = s.Value()
		case "message":
			ev.errMessage = s.Value()
		}
	}
	return s.Err()
}

// textKind classifies the event's text fragment, or returns "" when the
// event carries none.
func (ev *event) textKind(data []byte) string {
	if ev.text.Kind != providers.KindString {
		return ""
	}
	switch ev.typ {
	case evBlockDelta:
		switch {
		case ev.deltaType.Equal(data, "text_delta"):
			return providers.TextDelta
		case ev.deltaType.Equal(data, "input_json_delta"):
			return providers.TextToolArgs
		case ev.deltaType.Equal(data, "thinking_delta"):
			return providers.TextReasoning
		}
	case evBlockStart:
		// A text or thinking block may open with text already in it;
		// output rules read it like a delta.
		if ev.text.End-ev.text.Start > 2 {
			switch {
			case ev.blockType.Equal(data, "text"):
				return providers.TextDelta
			case ev.blockType.Equal(data, "thinking"):
				return providers.TextReasoning
			}
		}
	}
	return ""
}

// StreamState accounts for one streamed Messages response. Feed it the data
// of every event in order. message_start reports the prompt (input plus
// cache reads and writes) and message_delta the cumulative output; until
// message_delta arrives the output is estimated from the text, thinking
// and tool input fragments seen.
//
// A StreamState holds no reference to the data fed to it. It is not safe
// for concurrent use.
type StreamState struct {
	prompt  int64
	start   rawUsage
	final   rawUsage
	counted int64
	whole   int // whole texts referenced so far (WholePart)
	done    bool
}

// NewStreamState returns the state for one stream. promptEstimate stands in
// when message_start never arrives.
func NewStreamState(promptEstimate int64) *StreamState {
	return &StreamState{prompt: promptEstimate}
}

// Reset prepares the state for a new stream.
func (st *StreamState) Reset(promptEstimate int64) {
	*st = StreamState{prompt: promptEstimate}
}

// Feed reads one event's data and appends references to its generated text
// fragment, if any, to dst (see DeltaTexts). A malformed event returns an
// error and changes no accounting.
func (st *StreamState) Feed(dst []providers.TextRef, data []byte) ([]providers.TextRef, error) {
	var ev event
	if err := parseEvent(data, &ev); err != nil {
		return dst, err
	}
	return st.apply(dst, data, &ev, true), nil
}

// apply updates the accounting with one event and, when collect is set,
// appends the ref of its text fragment.
func (st *StreamState) apply(dst []providers.TextRef, data []byte, ev *event, collect bool) []providers.TextRef {
	switch ev.typ {
	case evMessageStart:
		st.start = ev.usage
	case evMessageDelta:
		if ev.usage.present {
			st.final = ev.usage
		}
	case evMessageStop:
		st.done = true
	}
	if kind := ev.textKind(data); kind != "" {
		st.counted += providers.EstimateLiteral(ev.text.Raw(data))
		if collect {
			dst = append(dst, ev.text.Ref(RoleAssistant, kind, 0, ev.index))
		}
	}
	if collect {
		dst = ev.wholeRefs(dst, data, &st.whole)
	}
	return dst
}

// wholeRefs appends the refs of the event's citation and server tool
// result texts (no generated tokens: not counted), numbering their Parts
// from *next (WholePart).
func (ev *event) wholeRefs(dst []providers.TextRef, data []byte, next *int) []providers.TextRef {
	dst = wholeLeaves(dst, data, ev.cite, 0, next)
	dst = wholeLeaves(dst, data, ev.content, 0, next)
	dst = wholeLeaves(dst, data, ev.input, 0, next)
	if ev.typ == evError && ev.errMessage.Kind == providers.KindString {
		// An error mid-stream: the client reads its message (a
		// translated stream's error event repeats it), and a provider
		// may quote the request back in it.
		dst = append(dst, ev.errMessage.Ref(RoleAssistant, providers.TextToolArgs, 0, wholePartBase+*next))
		*next++
	}
	return dst
}

// Usage returns the usage so far. Reported is true once message_delta has
// given the output count and the prompt count is known (from message_start,
// or from message_delta as some compatible servers send it).
func (st *StreamState) Usage() providers.Usage {
	u := providers.Usage{PromptTokens: st.prompt, CompletionTokens: st.counted}
	s, f := st.start, st.final
	if s.present {
		u.PromptTokens = s.input + s.cacheRead + s.cacheCreate
		u.CachedTokens = s.cacheRead
		u.CacheWriteTokens = s.cacheCreate
		u.CompletionTokens = max(s.output, st.counted)
	}
	if f.present && f.hasOutput {
		// message_delta counts are cumulative and may repeat the input.
		if f.hasInput && f.input > 0 {
			s.input = f.input
		}
		if f.cacheRead > 0 {
			s.cacheRead = f.cacheRead
		}
		if f.cacheCreate > 0 {
			s.cacheCreate = f.cacheCreate
		}
		known := s.present || (f.hasInput && f.input > 0)
		if known {
			u.PromptTokens = s.input + s.cacheRead + s.cacheCreate
			u.CachedTokens = s.cacheRead
			u.CacheWriteTokens = s.cacheCreate
		}
		u.CompletionTokens = f.output
		u.Reported = known
	}
	return u
}

// Counted returns the estimated tokens of the generated fragments seen.
func (st *StreamState) Counted() int64 { return st.counted }

// Done reports whether message_stop was seen.
func (st *StreamState) Done() bool { return st.done }

// DeltaTexts appends to dst the reference to the generated text fragment in
// one event's data, relative to data: the text of text_delta (and of a
// content_block_start that opens a text block with text) as TextDelta,
// partial_json of input_json_delta as TextToolArgs (raw JSON fragments of
// the tool input), thinking of thinking_delta (and of a content_block_start
// that opens a thinking block with text) as TextReasoning; Index is 0 and
// Part the content block index. The strings of a citations_delta's
// citation, of a content_block_start's citations, content (a server tool
// result) and input (when not empty), of a message_start's content and
// an error event's message are TextToolArgs whose
// Part is a WholePart, numbered from 0 (see StreamTexts).
func DeltaTexts(dst []providers.TextRef, data []byte) ([]providers.TextRef, error) {
	var n int
	return StreamTexts(dst, data, &n)
}

// StreamTexts is DeltaTexts numbering the WholeParts from *next, so a
// caller that feeds it every event of a stream gets a Part of its own for
// each whole text (as Feed does).
func StreamTexts(dst []providers.TextRef, data []byte, next *int) ([]providers.TextRef, error) {
	var ev event
	if err := parseEvent(data, &ev); err != nil {
		return dst, err
	}
	if kind := ev.textKind(data); kind != "" {
		dst = append(dst, ev.text.Ref(RoleAssistant, kind, 0, ev.index))
	}
	return ev.wholeRefs(dst, data, next), nil
}

// EventType is the type of a stream event.
type EventType uint8

// The event types a translator acts on, in the order of eventNames.
const (
	EventUnknown      = EventType(evUnknown)
	EventMessageStart = EventType(evMessageStart)
	EventBlockStart   = EventType(evBlockStart)
	EventBlockDelta   = EventType(evBlockDelta)
	EventBlockStop    = EventType(evBlockStop)
	EventMessageDelta = EventType(evMessageDelta)
	EventMessageStop  = EventType(evMessageStop)
	EventPing         = EventType(evPing)
	EventError        = EventType(evError)
)

// Event is one parsed stream event for translators: values are spans of
// the event's data.
type Event struct {
	Type  EventType
	Index int // content block index, -1 when absent
	// TextKind classifies Text: providers.TextDelta (text),
	// TextToolArgs (an input_json_delta fragment), TextReasoning, or "".
	TextKind   string
	BlockType  providers.Value // content_block.type
	Text       providers.Value
	ID, Name   providers.Value // message id, or tool_use id and name
	Model      providers.Value
	StopReason providers.Value
	ErrType    providers.Value
	ErrMessage providers.Value
}

// Next accounts for one event, as Feed does, and returns it parsed, so a
// translator reads each event once. A malformed event returns an error
// and changes no accounting.
func (st *StreamState) Next(data []byte, out *Event) error {
	var ev event
	if err := parseEvent(data, &ev); err != nil {
		return err
	}
	st.apply(nil, data, &ev, false)
	*out = Event{Type: EventType(ev.typ), Index: ev.index, TextKind: ev.textKind(data), BlockType: ev.blockType,
		Text: ev.text, ID: ev.id, Name: ev.name, Model: ev.model, StopReason: ev.stopReason,
		ErrType: ev.errType, ErrMessage: ev.errMessage}
	return nil
}
