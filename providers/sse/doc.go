// Package sse reads and writes server-sent event streams as relayed by the
// proxy: chunk by chunk, without allocating per event.
//
// Parser turns a byte stream split at arbitrary points into events (name,
// data, id). It accepts CRLF, LF and CR line endings, multi-line data,
// comments and a leading byte order mark, and bounds a line to MaxLineSize
// and an event's data to MaxEventSize. Feeding a stream in any split yields
// the same events as feeding it whole (FuzzParser checks this).
//
// Unlike a browser, the parser does not dispatch an unterminated event at
// the end of the stream; call Flush to get it, as accounting code wants
// whatever the provider managed to send.
//
// AppendEvent and AppendData write events back, for streams the proxy
// rewrites (masked text, translated formats).
package sse
