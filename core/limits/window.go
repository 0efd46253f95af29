package limits

import "math"

// winState is a window counter: the bucket number i (now / window), the count
// c of bucket i and the count p of bucket i-1. The Lua scripts keep the same
// three numbers in the subject's windows hash and do the same arithmetic in
// the same order, so both backends decide alike (see TestBackendsAgree).
type winState struct {
	i, c, p int64
}

// roll advances the state to bucket idx.
func (s *winState) roll(idx int64, fixed bool) {
	if s.i == idx {
		return
	}
	if !fixed && s.i == idx-1 {
		s.p = s.c
	} else {
		s.p = 0
	}
	s.c = 0
	s.i = idx
}

// estimate is the count over the last window: for sliding windows the
// previous bucket weighted by the part of it still inside the window, plus
// the current bucket (see doc.go for the error this assumes away).
func (s *winState) estimate(w, now int64, fixed bool) float64 {
	if fixed {
		return float64(s.c)
	}
	el := now - s.i*w
	// The conversions keep the compiler from fusing multiply and add, which
	// would round differently from Lua.
	return float64(float64(s.p)*float64(w-el))/float64(w) + float64(s.c)
}

// need is what a check requires to be left: at least one unit, so an
// exhausted counter refuses even a zero reservation.
func need(cost int64) int64 {
	if cost < 1 {
		return 1
	}
	return cost
}

// fits reports whether cost fits under limit given the estimate.
func fits(est float64, cost, limit int64) bool {
	return est+float64(need(cost)) <= float64(limit)
}

// remaining is what is left of limit after est; never negative.
func remaining(est float64, limit int64) int64 {
	r := math.Floor(float64(limit) - est)
	if r < 0 {
		return 0
	}
	return int64(r)
}

// drainMs is when the window counts nothing if nothing more arrives.
func (s *winState) drainMs(w, now int64, fixed bool) int64 {
	start := s.i * w
	switch {
	case fixed:
		return start + w
	case s.c > 0:
		return start + 2*w
	case s.p > 0:
		return start + w
	}
	return now
}

// retryMs is how long until cost fits if nothing else arrives; 0 if it never
// will (cost above the limit).
func (s *winState) retryMs(w, now, cost, limit int64, fixed bool) int64 {
	n := need(cost)
	if n > limit {
		return 0
	}
	start := s.i * w
	if fixed {
		return start + w - now
	}
	el := now - start
	var wait int64
	if s.c+n <= limit {
		// The previous bucket's share decays within this bucket:
		// p*(w-e)/w <= limit-c-n  ⇔  e >= w - (limit-c-n)*w/p.
		e := int64(math.Ceil(float64(w) - float64(float64(limit-s.c-n)*float64(w))/float64(s.p)))
		wait = e - el
	} else {
		// Wait for the next bucket, where c becomes the decaying share.
		g := int64(math.Ceil(float64(w) - float64(float64(limit-n)*float64(w))/float64(s.c)))
		wait = start + w - now + g
	}
	if wait < 1 {
		wait = 1
	}
	return wait
}

// settle moves the count of bucket idx by delta (actual minus reserved
// tokens), if that bucket is still counted; never below zero.
func (s *winState) settle(idx, delta int64, fixed bool) {
	switch {
	case s.i == idx:
		s.c = max(0, s.c+delta)
	case !fixed && s.i == idx+1:
		s.p = max(0, s.p+delta)
	}
}
