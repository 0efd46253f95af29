package hub

import (
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// EventKind is what a hub stream event says.
type EventKind uint8

// The stream events every format can carry.
const (
	EvStart     EventKind = iota + 1 // the answer begins: ID, Model
	EvText                           // a text fragment: Text (a string literal)
	EvToolStart                      // tool call Index begins: ID, Name
	EvToolArgs                       // a fragment of tool call Index's JSON arguments: Text (a literal)
	EvFinish                         // generation ended: Stop
	EvDone                           // the stream is complete
	EvError                          // the provider failed: ErrType, Text (the message)
)

// Event is one hub stream event. Values are spans of the upstream event's
// data.
type Event struct {
	Kind      EventKind
	Index     int
	Stop      Stop
	ID, Name  providers.Value
	Model     providers.Value
	Text      providers.Value
	ErrType   providers.Value
	ErrStatus int
}

// encoder writes hub events in a client's stream format.
type encoder interface {
	// event writes one event; usage is read only by the events that
	// report it (a stream start).
	event(dst, data []byte, ev *Event, st usager) []byte
	close(dst []byte, u providers.Usage) []byte
}

// usager is where an encoder reads the usage so far (the Stream).
type usager interface{ Usage() providers.Usage }

// Stream translates one provider stream into a client's stream format:
// each upstream event's data is decoded into hub events (accounting for
// usage as the provider's StreamState does) and each hub event encoded as
// the client's SSE frames. Reset reuses every buffer, so a steady stream
// allocates nothing. Not safe for concurrent use.
type Stream struct {
	from, to     Wire
	model        string
	created      int64
	includeUsage bool
	an           anthropic.StreamState
	oa           openai.StreamState
	aev          anthropic.Event
	toolIndex    []int // Anthropic content block → tool call index
	tools        int
	whole        int // whole texts DeltaTexts referenced (anthropic/openai.StreamTexts)
	chatStarted  bool
	evs          []Event
	refs         []providers.TextRef
	chat         chatEncoder
	msgs         messagesEncoder
	resp         responsesState
	done         bool
}

// NewStream returns a translator from provider format from (Chat or
// Messages) to client format to. model names the model in the output (""
// keeps the provider's), created is the Unix time to report, includeUsage
// whether a Chat client asked for the usage chunk, and promptEstimate the
// prompt count used if the provider reports none.
func NewStream(from, to Wire, model string, created int64, includeUsage bool, promptEstimate int64) *Stream {
	t := &Stream{}
	t.Reset(from, to, model, created, includeUsage, promptEstimate)
	return t
}

// Reset prepares t for a new stream, keeping its buffers.
func (t *Stream) Reset(from, to Wire, model string, created int64, includeUsage bool, promptEstimate int64) {
	t.from, t.to, t.model, t.created, t.includeUsage = from, to, model, created, includeUsage
	t.an.Reset(promptEstimate)
	t.oa.Reset(openai.Chat, promptEstimate)
	t.toolIndex, t.tools, t.whole, t.chatStarted, t.done = t.toolIndex[:0], 0, 0, false, false
	t.evs = t.evs[:0]
	switch to {
	case Chat:
		t.chat.reset(model, created, includeUsage)
	case Messages:
		t.msgs.reset(model)
	case Responses:
		t.resp.reset(model, created)
	}
}

// Usage returns the usage so far, as the provider's StreamState counts it.
func (t *Stream) Usage() providers.Usage {
	if t.from == Messages {
		return t.an.Usage()
	}
	return t.oa.Usage()
}

// Done reports whether the client's stream has been closed.
func (t *Stream) Done() bool { return t.done }

// DeltaTexts appends the references to the texts of one upstream event's
// data (for output rules and memory), without accounting. Citations and
// server tool results are among them although the translation drops them
// (see Translate): the rules read the provider's answer as it was sent.
// Texts whole in their event (citations, error messages) are numbered
// through the stream, so no two share a rules filter.
func (t *Stream) DeltaTexts(dst []providers.TextRef, data []byte) ([]providers.TextRef, error) {
	if t.from == Messages {
		return anthropic.StreamTexts(dst, data, &t.whole)
	}
	return openai.StreamTexts(dst, data, openai.Chat, &t.whole)
}

func (t *Stream) encoder() encoder {
	switch t.to {
	case Messages:
		return &t.msgs
	case Responses:
		return &t.resp
	}
	return &t.chat
}

// Translate reads one upstream event's data and appends the client frames
// it becomes to dst. A malformed event returns an error and writes
// nothing. Only the hub's events cross: citations (Anthropic's
// citations_delta, OpenAI's delta.annotations), server tool blocks and
// their results are dropped, so no text reaches the client that the
// client's format would need the proxy to build.
func (t *Stream) Translate(dst, data []byte) ([]byte, error) {
	var err error
	t.evs = t.evs[:0]
	if t.from == Messages {
		err = t.decodeAnthropic(data)
	} else {
		err = t.decodeChat(data)
	}
	if err != nil || t.done {
		return dst, err
	}
	enc := t.encoder()
	var u usager = t
	for i := range t.evs {
		ev := &t.evs[i]
		switch ev.Kind {
		case EvDone:
			return t.Close(dst), nil
		case EvError:
			t.done = true
			return enc.event(dst, data, ev, u), nil
		}
		dst = enc.event(dst, data, ev, u)
	}
	return dst, nil
}

// Close finishes the client's stream if it is still open (a finish if
// none came, usage, the format's end). It is idempotent.
func (t *Stream) Close(dst []byte) []byte {
	if t.done {
		return dst
	}
	t.done = true
	return t.encoder().close(dst, t.Usage())
}

func (t *Stream) decodeAnthropic(data []byte) error {
	ev := &t.aev
	if err := t.an.Next(data, ev); err != nil {
		return err
	}
	switch ev.Type {
	case anthropic.EventMessageStart:
		t.evs = append(t.evs, Event{Kind: EvStart, ID: ev.ID, Model: ev.Model})
	case anthropic.EventBlockStart:
		t.setTool(ev.Index, -1)
		switch {
		case ev.BlockType.Equal(data, "tool_use"):
			k := t.tools
			t.tools++
			t.setTool(ev.Index, k)
			t.evs = append(t.evs, Event{Kind: EvToolStart, Index: k, ID: ev.ID, Name: ev.Name})
		case ev.TextKind == providers.TextDelta:
			t.evs = append(t.evs, Event{Kind: EvText, Text: ev.Text})
		}
	case anthropic.EventBlockDelta:
		if ev.Text.End-ev.Text.Start <= 2 {
			break // an empty fragment
		}
		switch ev.TextKind {
		case providers.TextDelta:
			t.evs = append(t.evs, Event{Kind: EvText, Text: ev.Text})
		case providers.TextToolArgs:
			if k := t.tool(ev.Index); k >= 0 {
				t.evs = append(t.evs, Event{Kind: EvToolArgs, Index: k, Text: ev.Text})
			}
		}
	case anthropic.EventMessageDelta:
		t.evs = append(t.evs, Event{Kind: EvFinish, Stop: anthropicStop(data, ev.StopReason)})
	case anthropic.EventMessageStop:
		t.evs = append(t.evs, Event{Kind: EvDone})
	case anthropic.EventError:
		t.evs = append(t.evs, Event{Kind: EvError, ErrType: ev.ErrType, Text: ev.ErrMessage})
	}
	return nil
}

func (t *Stream) setTool(block, k int) {
	if block < 0 || block > 1<<16 {
		return
	}
	for len(t.toolIndex) <= block {
		t.toolIndex = append(t.toolIndex, -1)
	}
	t.toolIndex[block] = k
}

func (t *Stream) tool(block int) int {
	if block < 0 || block >= len(t.toolIndex) {
		return -1
	}
	return t.toolIndex[block]
}

// decodeChat reads one chat.completion.chunk (first choice), the usage
// chunk, [DONE] or an error object.
func (t *Stream) decodeChat(data []byte) error {
	if string(data) == "[DONE]" {
		t.refs, _ = t.oa.Feed(t.refs[:0], data)
		t.evs = append(t.evs, Event{Kind: EvDone})
		return nil
	}
	s := providers.NewScanner(data)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(&s)
	}
	var id, model, choices, errObj providers.Value
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "id":
			id = s.Value()
		case "model":
			model = s.Value()
		case "choices":
			choices = s.Value()
		case "error":
			errObj = s.Value()
		}
	}
	if err := s.Finish(); err != nil {
		return err
	}
	// Accounting only: the refs are not kept.
	var err error
	if t.refs, err = t.oa.Feed(t.refs[:0], data); err != nil {
		return err
	}
	if errObj.Kind == providers.KindObject {
		ev := Event{Kind: EvError, ErrType: member(data, errObj, "type"), Text: member(data, errObj, "message")}
		if member(data, errObj, "code").Equal(data, "rate_limit_exceeded") {
			ev.ErrStatus = 429 // OpenAI types rate limits "requests" or "tokens"
		}
		t.evs = append(t.evs, ev)
		return nil
	}
	if !t.chatStarted {
		t.chatStarted = true
		t.evs = append(t.evs, Event{Kind: EvStart, ID: id, Model: model})
	}
	if choices.Kind != providers.KindArray {
		return nil
	}
	cs := scanAt(data, choices)
	arr := cs.Array()
	for arr.Next() {
		if arr.Index() > 0 || cs.Peek() != providers.KindObject {
			cs.Skip()
			continue
		}
		// One pass over the choice: delta (content, refusal, tool_calls)
		// and finish_reason.
		var finish providers.Value
		obj := cs.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(cs.Key(k)) {
			case "finish_reason":
				finish = cs.Value()
			case "delta":
				t.chatDelta(&cs, data)
			}
		}
		if finish.Kind == providers.KindString {
			t.evs = append(t.evs, Event{Kind: EvFinish, Stop: openaiStop(data, finish)})
		}
	}
	return cs.Err()
}

// chatDelta reads a chunk's delta at the scanner.
func (t *Stream) chatDelta(s *providers.Scanner, data []byte) {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "content", "refusal":
			if c := s.Value(); c.Kind == providers.KindString && c.End-c.Start > 2 {
				t.evs = append(t.evs, Event{Kind: EvText, Text: c})
			}
		case "tool_calls":
			if s.Peek() != providers.KindArray {
				s.Skip()
				continue
			}
			arr := s.Array()
			for arr.Next() {
				t.chatToolCall(s, data, arr.Index())
			}
		}
	}
}

// chatToolCall reads one tool_calls element: {"index","id","function":
// {"name","arguments"}}.
func (t *Stream) chatToolCall(s *providers.Scanner, data []byte, pos int) {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	idx := int64(pos)
	var id, name, args providers.Value
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "index":
			if n, err := s.Value().Int(data); err == nil {
				idx = n
			}
		case "id":
			id = s.Value()
		case "function":
			if s.Peek() != providers.KindObject {
				s.Skip()
				continue
			}
			fobj := s.Object()
			for {
				fk, ok := fobj.Next()
				if !ok {
					break
				}
				switch string(s.Key(fk)) {
				case "name":
					name = s.Value()
				case "arguments":
					args = s.Value()
				}
			}
		}
	}
	if id.Kind == providers.KindString {
		t.evs = append(t.evs, Event{Kind: EvToolStart, Index: int(idx), ID: id, Name: name})
	}
	if args.Kind == providers.KindString && args.End-args.Start > 2 {
		t.evs = append(t.evs, Event{Kind: EvToolArgs, Index: int(idx), Text: args})
	}
}

// Truncate ends the client's stream as cut by the output cap (the proxy's
// budget cut): the format's truncation finish (length, max_tokens,
// incomplete), usage, and its end. It does nothing on a closed stream.
func (t *Stream) Truncate(dst []byte) []byte {
	if t.done {
		return dst
	}
	ev := Event{Kind: EvFinish, Stop: StopLength}
	dst = t.encoder().event(dst, nil, &ev, t)
	return t.Close(dst)
}
