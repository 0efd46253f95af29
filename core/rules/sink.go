package rules

import "github.com/tokenomics-dev/tokenomics/sdk/abi"

// sink receives matcher results as ABI match records written straight into
// buf (guest memory, or a host buffer for native use). n counts every match,
// also those that did not fit, so the guest can retry with a larger buffer.
type sink struct {
	buf []byte
	n   int
	// texts: write TextMatch records, of text number text.
	texts bool
	text  int
}

func (s *sink) add(start, end, idx int) {
	if s.texts {
		if off := s.n * abi.TextMatchRecordSize; off+abi.TextMatchRecordSize <= len(s.buf) {
			abi.PutU32(s.buf, off, uint32(s.text))
			abi.PutU32(s.buf, off+4, uint32(start))
			abi.PutU32(s.buf, off+8, uint32(end))
			abi.PutU32(s.buf, off+12, uint32(idx))
		}
		s.n++
		return
	}
	if off := s.n * abi.MatchRecordSize; off+abi.MatchRecordSize <= len(s.buf) {
		abi.PutU32(s.buf, off, uint32(start))
		abi.PutU32(s.buf, off+4, uint32(end))
		abi.PutU32(s.buf, off+8, uint32(idx))
	}
	s.n++
}

// at returns record i (only for i < the buffer's capacity).
func (s *sink) at(i int) (start, end, idx int) {
	off := i * abi.MatchRecordSize
	return int(abi.U32(s.buf, off)), int(abi.U32(s.buf, off+4)), int(abi.U32(s.buf, off+8))
}
