package sse

import (
	"bytes"
	"errors"
)

// MaxLineSize bounds one line of the stream. Provider events are a few
// kilobytes; a longer line means a broken or hostile upstream.
const MaxLineSize = 1 << 20

// MaxEventSize bounds the data of one event (several data lines joined).
const MaxEventSize = 8 << 20

var bom = []byte("\xEF\xBB\xBF")

// Errors returned by Parser.Next.
var (
	ErrLineTooLong  = errors.New("sse: line longer than 1 MiB")
	ErrEventTooLong = errors.New("sse: event data longer than 8 MiB")
)

// Event is one dispatched server-sent event. Its slices point into the
// parser's buffers and are valid until the next call to Next or Feed.
type Event struct {
	// Name is the event field ("" when absent, which the standard reads
	// as "message").
	Name []byte
	// Data is the data lines joined by "\n".
	Data []byte
	// ID is the last event id seen on the stream, if any.
	ID []byte
}

// IsDone reports whether the event is the OpenAI end-of-stream marker.
func (e Event) IsDone() bool { return string(e.Data) == "[DONE]" }

// Parser is an incremental server-sent events parser
// (https://html.spec.whatwg.org/multipage/server-sent-events.html). Feed it
// the stream in chunks split anywhere and pull events with Next:
//
//	p.Feed(chunk)
//	for {
//		ev, ok, err := p.Next()
//		if err != nil { ... }
//		if !ok { break } // needs more input
//		...
//	}
//
// Lines end in CRLF, LF or CR. Comment lines (":...") and the retry field are
// ignored; an event with no data lines is not dispatched, as the standard
// says. In steady state the parser does not allocate: its buffers grow to
// the largest line and event seen and are reused.
//
// A Parser is not safe for concurrent use. The zero value is ready to use.
type Parser struct {
	in      []byte // unread input: the chunk given to Feed, or queue
	queue   []byte // owned input when Feed is called before draining
	partial []byte // start of a line continued in the next chunk (owned)
	data    []byte
	name    []byte
	id      []byte
	hasData bool
	skipLF  bool // the last chunk ended in CR: drop a leading LF
	started bool // the first line has been read
	reset   bool // the previous Next dispatched: clear the event buffers
	eof     bool // Flush was called: the input is complete
	err     error
}

// Reset clears all state so the parser can read a new stream, keeping its
// buffers.
func (p *Parser) Reset() {
	*p = Parser{partial: p.partial[:0], queue: p.queue[:0], data: p.data[:0], name: p.name[:0], id: p.id[:0]}
}

// Feed hands the parser the next chunk of the stream. The parser reads
// chunk in place until Next returns ok == false, so the caller must not
// modify it before then. Feeding again before that copies the unread bytes
// and the new chunk into the parser's own buffer.
func (p *Parser) Feed(chunk []byte) {
	if len(p.in) == 0 {
		p.in = chunk
		return
	}
	// p.in may lie inside p.queue; append moves it to the front first.
	p.queue = append(p.queue[:0], p.in...)
	p.queue = append(p.queue, chunk...)
	p.in = p.queue
}

// Next returns the next complete event. ok is false when the input fed so
// far holds no further complete event; the parser then keeps any partial
// line for the next Feed.
func (p *Parser) Next() (ev Event, ok bool, err error) {
	if p.err != nil {
		return Event{}, false, p.err
	}
	if p.reset {
		p.data, p.name = p.data[:0], p.name[:0]
		p.hasData = false
		p.reset = false
	}
	for {
		line, more := p.line()
		if p.err != nil {
			return Event{}, false, p.err
		}
		if !more {
			if p.eof && p.hasData {
				line, more = nil, true // end of stream dispatches the last event
			} else {
				return Event{}, false, nil
			}
		}
		if !p.started {
			p.started = true
			line = bytes.TrimPrefix(line, bom) // a byte order mark may open the stream
		}
		if len(line) == 0 {
			if !p.hasData {
				p.name = p.name[:0]
				continue
			}
			p.reset = true
			data := p.data
			if len(data) > 0 {
				data = data[:len(data)-1] // the last data line's "\n"
			}
			return Event{Name: p.name, Data: data, ID: p.id}, true, nil
		}
		p.field(line)
		if p.err != nil {
			return Event{}, false, p.err
		}
	}
}

// Flush marks the end of the stream and returns the events still pending:
// those in unread input, then a last event that lacked its closing blank
// line. Call it until ok is false. Feed must not be called afterwards
// without Reset.
func (p *Parser) Flush() (ev Event, ok bool, err error) {
	p.eof = true
	return p.Next()
}

// line returns the next complete line without its terminator.
func (p *Parser) line() ([]byte, bool) {
	if p.skipLF && len(p.in) > 0 {
		if p.in[0] == '\n' {
			p.in = p.in[1:]
		}
		p.skipLF = false
	}
	i := lineBreak(p.in)
	if i < 0 && p.eof {
		// The stream ended inside a line: that line is complete.
		p.partial = append(p.partial, p.in...)
		p.in = nil
		if len(p.partial) == 0 {
			return nil, false
		}
		line := p.partial
		p.partial = p.partial[:0]
		return line, true
	}
	if i < 0 {
		if len(p.partial)+len(p.in) > MaxLineSize {
			p.err = ErrLineTooLong
			return nil, false
		}
		p.partial = append(p.partial, p.in...)
		p.in = nil
		return nil, false
	}
	if len(p.partial)+i > MaxLineSize {
		p.err = ErrLineTooLong
		return nil, false
	}
	var line []byte
	if len(p.partial) > 0 {
		p.partial = append(p.partial, p.in[:i]...)
		line = p.partial
		p.partial = p.partial[:0] // line stays valid: nothing appends before it is used
	} else {
		line = p.in[:i]
	}
	if p.in[i] == '\r' {
		if i+1 < len(p.in) {
			if p.in[i+1] == '\n' {
				i++
			}
		} else {
			p.skipLF = true
		}
	}
	p.in = p.in[i+1:]
	return line, true
}

// field processes one non-empty line.
func (p *Parser) field(line []byte) {
	if line[0] == ':' {
		return // comment
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if len(p.data)+len(value)+1 > MaxEventSize {
			p.err = ErrEventTooLong
			return
		}
		p.data = append(p.data, value...)
		p.data = append(p.data, '\n')
		p.hasData = true
	case "event":
		p.name = append(p.name[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			p.id = append(p.id[:0], value...)
		}
	}
}
