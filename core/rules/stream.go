package rules

import "context"

// Stream checks streamed output with the RuleSet's output rules. It holds
// back a bounded tail (RuleSet.StreamTail bytes: the longest match an output
// rule can produce, at most Config.StreamTailMax) so a match split across
// deltas is still seen whole, and emits only bytes no future match can
// reach. The stream's state lives here, so consecutive Writes may run on
// different pooled instances. A Stream is not safe for concurrent use.
type Stream struct {
	rs      *RuleSet
	ctx     context.Context
	tail    int // the RuleSet's hold-back when the stream started
	pending []byte
	base    int // stream offset of pending[0]
	out     []byte
	texts   [1]Text
	scratch Verdict
	blocked bool
}

// NewStream starts checking one streamed response. ctx bounds every check
// of the stream (cancel it when the client goes away).
func (rs *RuleSet) NewStream(ctx context.Context) *Stream {
	return &Stream{rs: rs, ctx: ctx, tail: rs.StreamTail()}
}

// Reset makes s a new stream of rs, as NewStream would, keeping its
// buffers: a relay reuses its streams from one response to the next.
func (s *Stream) Reset(rs *RuleSet, ctx context.Context) {
	s.scratch.Reset()
	*s = Stream{rs: rs, ctx: ctx, tail: rs.StreamTail(), pending: s.pending[:0], out: s.out[:0], scratch: s.scratch}
}

// Write adds delta and returns the bytes that can be sent now, masked. v
// (reset first) gets Block when an output rule blocks (stop the stream and
// send nothing more), Mask when emitted bytes were masked, and findings
// whose offsets count bytes of the original stream. emit is valid until the
// next Write or Flush.
func (s *Stream) Write(delta []byte, v *Verdict) (emit []byte, err error) {
	v.Reset()
	if s.blocked {
		v.block(s.scratch.Rule, s.scratch.Reason)
		v.Failed = s.scratch.Failed
		return nil, nil
	}
	if s.tail == 0 { // no output rules: pass through
		if len(s.pending) == 0 {
			return delta, nil
		}
		s.out = append(append(s.out[:0], s.pending...), delta...) // what Append held
		s.pending = s.pending[:0]
		return s.out, nil
	}
	s.pending = append(s.pending, delta...)
	return s.process(false, v)
}

// Append adds delta without checking it: the next Write or Flush checks
// everything appended since in one rule call. A relay appends the deltas
// of every event one upstream read brought, then calls Write(nil, v) once,
// instead of calling the rules once per event.
func (s *Stream) Append(delta []byte) {
	if !s.blocked {
		s.pending = append(s.pending, delta...)
	}
}

// Flush checks and returns whatever is still held back, at the end of the
// stream.
func (s *Stream) Flush(v *Verdict) ([]byte, error) {
	v.Reset()
	if s.blocked {
		v.block(s.scratch.Rule, s.scratch.Reason)
		v.Failed = s.scratch.Failed
		return nil, nil
	}
	if len(s.pending) == 0 {
		return nil, nil
	}
	if s.tail == 0 { // appended, nothing to check: pass through
		s.out = append(s.out[:0], s.pending...)
		s.pending = s.pending[:0]
		return s.out, nil
	}
	return s.process(true, v)
}

func (s *Stream) process(final bool, v *Verdict) ([]byte, error) {
	cut := len(s.pending)
	if !final {
		cut -= s.tail
		if cut <= 0 {
			return nil, nil
		}
	}
	s.texts[0] = Text{Data: s.pending, Role: "assistant", Kind: "delta"}
	sv := &s.scratch
	if err := s.rs.Check(s.ctx, Output, s.texts[:], sv); err != nil {
		return nil, err
	}
	v.Errors = append(v.Errors, sv.Errors...)
	if sv.Action == Block {
		if final || s.blockSettled(cut) {
			s.blocked = true
			v.block(sv.Rule, sv.Reason)
			v.Failed = sv.Failed
			s.appendFindings(v, len(s.pending))
			return nil, nil
		}
		return nil, nil // the blocking match is still in the tail: wait
	}
	if !final {
		cut = sv.viewCut(cut, s.tail, len(s.pending)) // tail measured on the detection view
	}
	// Never cut through a match: it would be lost from the next scan.
	for moved := true; moved && !final; {
		moved = false
		for _, f := range sv.Findings {
			if f.Text == 0 && f.Start < cut && cut < f.End {
				cut, moved = f.Start, true
			}
		}
	}
	if cut <= 0 {
		return nil, nil
	}
	out := s.out[:0]
	pos := 0
	for _, e := range sv.Edits {
		if e.End > cut {
			break
		}
		out = append(out, s.pending[pos:e.Start]...)
		out = append(out, e.Replacement...)
		pos = e.End
		v.Action = Mask
	}
	out = append(out, s.pending[pos:cut]...)
	s.out = out
	s.appendFindings(v, cut)
	n := copy(s.pending, s.pending[cut:])
	s.pending = s.pending[:n]
	s.base += cut
	return out, nil
}

// blockSettled tells whether the block stands whatever bytes come next: a
// plugin failure, a plugin's own block decision (no span), or a blocking
// match that ends before cut. A blocking match in the tail may still change
// ("hack" followed by "athon"), so it waits.
func (s *Stream) blockSettled(cut int) bool {
	for _, f := range s.scratch.Findings {
		switch {
		case f.Action == FindingError:
			return true
		case f.Text < 0 && (f.Action == FindingFail || f.Action == FindingMask):
			return true
		case f.Action == FindingFail && f.End <= cut:
			return true
		}
	}
	return false
}

// appendFindings copies the scratch findings that end before cut into v,
// in stream offsets.
func (s *Stream) appendFindings(v *Verdict, cut int) {
	for _, f := range s.scratch.Findings {
		if f.Text == 0 {
			if f.End > cut {
				continue
			}
			f.Start += s.base
			f.End += s.base
		}
		v.Findings = append(v.Findings, f)
	}
}
