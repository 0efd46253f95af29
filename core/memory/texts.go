package memory

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// Texts holds an entry's texts (the request's messages and the answer) in
// buffers that go from one entry to the next, so recording an exchange
// copies its texts but allocates nothing once the pool is warm.
//
// Ownership moves in one direction:
//
//	t := NewTexts()              // the caller owns t: Add*, Append*
//	w.Append(Entry{Texts: t})    // the writer owns t, accepted or dropped
//	                             // (or t.Release(): the caller gives it back)
//
// After Append or Release, t and every copy of it are dead: the writer
// hands the buffer to another entry once this one is formatted (or
// dropped). A dead handle cannot reach that buffer: every method checks
// the handle's generation and the buffer's state and panics on a stale or
// queued handle, so a misuse is a crash in tests rather than one
// exchange's text written into another's record.
//
// The zero Texts holds nothing; an Entry without Texts uses Request and
// Response. A Texts is used by one goroutine at a time.
type Texts struct {
	b   *textBuf
	gen uint64
}

// textBuf is the pooled part of Texts.
type textBuf struct {
	// gen changes every time the buffer returns to the pool; state says
	// who may touch the buffers. Both are atomic so that a stale handle
	// racing the writer is reported, not a data race.
	gen   atomic.Uint64
	state atomic.Uint32

	req  []byte    // the request texts, one after the other
	msgs []textMsg // their roles and ends in req
	ans  []byte    // the answer
}

type textMsg struct {
	role string
	end  int
}

const (
	textsFree   uint32 = iota // in the pool
	textsOwned                // the caller's, being filled
	textsQueued               // the writer's
)

// maxKeptText is the most buffer space a Texts takes back to the pool: a
// rare huge exchange is not kept resident for the small ones after it.
const maxKeptText = 256 << 10

var textsPool = sync.Pool{New: func() any { return new(textBuf) }}

// NewTexts returns an empty Texts owned by the caller until it passes it
// to Writer.Append or Release.
func NewTexts() Texts {
	b := textsPool.Get().(*textBuf)
	if !b.state.CompareAndSwap(textsFree, textsOwned) {
		panic("memory: a Texts buffer in the pool is in use")
	}
	return Texts{b: b, gen: b.gen.Load()}
}

// IsZero reports whether t holds no buffer (the zero Texts, or one handed
// on by its owner who then cleared it).
func (t Texts) IsZero() bool { return t.b == nil }

// own returns t's buffer if the caller still owns it, and panics otherwise.
func (t Texts) own() *textBuf {
	b := t.b
	if b == nil {
		panic("memory: use of a zero Texts")
	}
	if b.gen.Load() != t.gen || b.state.Load() != textsOwned {
		panic("memory: use of a Texts after Append or Release")
	}
	return b
}

// AddRequest appends one request text, copied.
func (t Texts) AddRequest(role string, text []byte) {
	b := t.own()
	b.req = append(b.req, text...)
	b.msgs = append(b.msgs, textMsg{role: role, end: len(b.req)})
}

// AddRequestString is AddRequest for a text held as a string.
func (t Texts) AddRequestString(role, text string) {
	b := t.own()
	b.req = append(b.req, text...)
	b.msgs = append(b.msgs, textMsg{role: role, end: len(b.req)})
}

// AppendAnswer appends p, copied, to the answer.
func (t Texts) AppendAnswer(p []byte) {
	b := t.own()
	b.ans = append(b.ans, p...)
}

// Release gives t back without recording it; a no-op on the zero Texts.
func (t Texts) Release() {
	if t.b == nil {
		return
	}
	b := t.own()
	if !b.state.CompareAndSwap(textsOwned, textsFree) {
		panic("memory: use of a Texts after Append or Release")
	}
	b.recycle()
}

// queue hands t to the writer (Append), whatever becomes of the entry.
func (t Texts) queue() {
	b := t.own()
	if !b.state.CompareAndSwap(textsOwned, textsQueued) {
		panic("memory: use of a Texts after Append or Release")
	}
}

// done is the writer's end of t: formatted or dropped, the buffer goes
// back to the pool.
func (t Texts) done() {
	if t.b == nil {
		return
	}
	if !t.b.state.CompareAndSwap(textsQueued, textsFree) {
		panic("memory: a queued Texts was not the writer's")
	}
	t.b.recycle()
}

// recycle empties b, invalidates every handle to it and pools it. The
// caller has set its state to free.
func (b *textBuf) recycle() {
	b.reset()
	textsPool.Put(b)
}

func (b *textBuf) reset() {
	b.gen.Add(1)
	if cap(b.req)+cap(b.ans) > maxKeptText {
		b.req, b.ans = nil, nil
	}
	clear(b.msgs) // no role string kept alive from the pool
	b.req, b.msgs, b.ans = b.req[:0], b.msgs[:0], b.ans[:0]
}

// text returns request text i without copying. Only the writer calls it,
// while it formats the entry: the buffer is the writer's until done, so
// nothing changes the bytes under the string.
func (b *textBuf) text(i int) string {
	start := 0
	if i > 0 {
		start = b.msgs[i-1].end
	}
	return bytesString(b.req[start:b.msgs[i].end])
}

// bytesString views p as a string, for format only (see textBuf.text).
func bytesString(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(p), len(p))
}
