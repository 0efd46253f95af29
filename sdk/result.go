package sdk

import "github.com/tokenomics-dev/tokenomics/sdk/abi"

// Result collects what a Check found. The host turns it into the rule's
// action: matches are masked, block the request, or become findings.
type Result struct {
	matches []resultMatch
	strs    []byte
	block   bool
	err     bool
	msgOff  int
	msgLen  int
	out     []byte
}

type resultMatch struct {
	text, start, end, detector int
	replOff, replLen           int // replOff < 0: default replacement
}

// Match reports the span [start, end) of text (an index into Request.Texts)
// found by detector (an index from Config.Detector).
func (r *Result) Match(text, start, end, detector int) {
	r.matches = append(r.matches, resultMatch{text, start, end, detector, -1, 0})
}

// Replace is Match with the replacement the host uses when the rule masks.
func (r *Result) Replace(text, start, end, detector int, replacement []byte) {
	off := len(r.strs)
	r.strs = append(r.strs, replacement...)
	r.matches = append(r.matches, resultMatch{text, start, end, detector, off, len(replacement)})
}

// Block asks the host to refuse the request with reason, whatever was matched.
// A rule whose action is warn or log records it as a finding instead.
func (r *Result) Block(reason string) {
	r.block = true
	r.msgOff = len(r.strs)
	r.msgLen = len(reason)
	r.strs = append(r.strs, reason...)
}

// Len is the number of matches reported so far.
func (r *Result) Len() int { return len(r.matches) }

// Blocked tells whether Block was called.
func (r *Result) Blocked() bool { return r.block }

func (r *Result) reset() {
	r.matches = r.matches[:0]
	r.strs = r.strs[:0]
	r.block, r.err = false, false
	r.msgOff, r.msgLen = 0, 0
}

func (r *Result) fail(msg string) {
	r.reset()
	r.err = true
	r.msgLen = len(msg)
	r.strs = append(r.strs, msg...)
}

// empty tells whether the result is "allow, nothing found".
func (r *Result) empty() bool { return !r.block && !r.err && len(r.matches) == 0 }

// encode writes the Result layout into r.out and returns it.
func (r *Result) encode() []byte {
	head := abi.ResultHeaderSize + len(r.matches)*abi.ResultMatchSize
	n := head + len(r.strs)
	if cap(r.out) < n {
		r.out = make([]byte, n, n+n/2)
	}
	b := r.out[:n]
	var flags uint32
	if r.block {
		flags |= abi.ResultBlock
	}
	if r.err {
		flags |= abi.ResultError
	}
	abi.PutU32(b, 0, flags)
	abi.PutU32(b, 4, uint32(len(r.matches)))
	abi.PutU32(b, 8, uint32(head+r.msgOff))
	abi.PutU32(b, 12, uint32(r.msgLen))
	off := abi.ResultHeaderSize
	for _, m := range r.matches {
		abi.PutU32(b, off, uint32(m.text))
		abi.PutU32(b, off+4, uint32(m.start))
		abi.PutU32(b, off+8, uint32(m.end))
		abi.PutU32(b, off+12, uint32(m.detector))
		if m.replOff < 0 {
			abi.PutU32(b, off+16, abi.NoReplacement)
			abi.PutU32(b, off+20, 0)
		} else {
			abi.PutU32(b, off+16, uint32(head+m.replOff))
			abi.PutU32(b, off+20, uint32(m.replLen))
		}
		off += abi.ResultMatchSize
	}
	copy(b[head:], r.strs)
	r.out = b
	return b
}
