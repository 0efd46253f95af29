package sse

import "bytes"

// AppendEvent appends one event in wire form to dst: an optional "event:"
// line, one "data:" line per line of data, and the blank line that
// dispatches it. Line breaks inside data (LF, CRLF or CR) become separate
// data lines, so the event reads back unchanged.
func AppendEvent(dst, name, data []byte) []byte {
	if len(name) > 0 {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexAny(data, "\r\n")
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n')
}

// AppendData appends a data-only event ("data: ...\n\n"), the form OpenAI
// streams use. data must not contain line breaks; AppendEvent handles those.
func AppendData(dst, data []byte) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	return append(dst, '\n', '\n')
}

// Done is the OpenAI end-of-stream event.
var Done = []byte("data: [DONE]\n\n")
