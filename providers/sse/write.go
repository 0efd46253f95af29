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
		i := lineBreak(data)
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

// lineBreak is bytes.IndexAny(b, "\r\n") made of two vectorised
// single-byte searches (a CR is looked for only before the first LF):
// IndexAny tests every byte against a set, several times slower on the
// ~150-byte lines of a stream, and the relay reads and writes every line.
func lineBreak(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	head := b
	if n >= 0 {
		head = b[:n]
	}
	if r := bytes.IndexByte(head, '\r'); r >= 0 {
		return r
	}
	return n
}
