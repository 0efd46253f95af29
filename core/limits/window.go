package limits

import "math"

// winState is one rate window's counter. The Lua scripts keep the same
// numbers in the subject's windows hash and do the same arithmetic in the
// same order, so both backends decide alike (see TestBackendsAgree).
//
// Sliding windows (the default) use GCRA: tat is the theoretical arrival
// time in unix ms (fractional), the moment the window would have drained
// if nothing else arrived. Each unit of cost moves it by window/limit ms,
// and a request fits when the moved tat is at most window ms ahead of now.
// The long-run rate never exceeds limit per window, a burst may use the
// whole limit at once (after which units come back one per window/limit),
// and the time a refused request must wait is exactly how far its tat
// would overshoot, never more than the window.
//
// Fixed windows count c units in bucket i (now / window).
type winState struct {
	i, c int64
	tat  float64
}

// roll advances a fixed window's state to bucket idx. Sliding windows need
// no roll: their tat drains with time.
func (s *winState) roll(idx int64, fixed bool) {
	if !fixed || s.i == idx {
		return
	}
	s.c = 0
	s.i = idx
}

// need is what a check requires to be left: at least one unit, so an
// exhausted counter refuses even a zero reservation.
func need(cost int64) int64 {
	if cost < 1 {
		return 1
	}
	return cost
}

// span is the time n units occupy in a sliding window: n × window/limit ms,
// never more than the window for n <= limit. The conversions keep the
// compiler from fusing operations that Lua rounds separately.
func span(n, w, limit int64) float64 {
	x := float64(float64(n)*float64(w)) / float64(limit)
	if n <= limit && x > float64(w) {
		x = float64(w)
	}
	return x
}

// base is where a sliding window's next unit starts: tat, or now once the
// window has drained.
func (s *winState) base(now int64) float64 {
	return math.Max(s.tat, float64(now))
}

// fits reports whether cost fits under limit now.
func (s *winState) fits(w, now, cost, limit int64, fixed bool) bool {
	n := need(cost)
	if fixed {
		return s.c+n <= limit
	}
	return n <= limit && s.base(now)+span(n, w, limit) <= float64(now+w)
}

// add counts cost units now (after fits).
func (s *winState) add(w, now, cost, limit int64, fixed bool) {
	if fixed {
		s.c = SatAdd(s.c, cost)
		return
	}
	s.tat = s.base(now) + span(cost, w, limit)
}

// remaining is how many units fit now; never negative.
func (s *winState) remaining(w, now, limit int64, fixed bool) int64 {
	if fixed {
		return max(0, limit-s.c)
	}
	room := float64(now+w) - s.base(now)
	if room <= 0 {
		return 0
	}
	r := int64(math.Floor(float64(room*float64(limit)) / float64(w)))
	r = min(r, limit)
	// Rounding may put r one above what fits; the check decides.
	for r > 0 && s.base(now)+span(r, w, limit) > float64(now+w) {
		r--
	}
	return r
}

// drainMs is when the window counts nothing if nothing more arrives.
func (s *winState) drainMs(w, now int64, fixed bool) int64 {
	if fixed {
		return s.i*w + w
	}
	return int64(math.Ceil(s.base(now)))
}

// retryMs is how long until cost fits if nothing else arrives; 0 if it never
// will (cost above the limit). At now+retryMs the same request fits; for
// sliding windows it is at most the window, because tat never runs more
// than a window ahead through admissions.
func (s *winState) retryMs(w, now, cost, limit int64, fixed bool) int64 {
	n := need(cost)
	if n > limit {
		return 0
	}
	if fixed {
		return s.i*w + w - now
	}
	wait := int64(math.Ceil(s.base(now) + span(n, w, limit) - float64(now+w)))
	return max(wait, 1)
}

// settle moves the window by delta units (actual minus reserved tokens):
// a sliding window's tat by delta's span, a fixed window's count if its
// bucket idx is still the current one; never below zero.
func (s *winState) settle(idx, delta, w, limit int64, fixed bool) {
	if !fixed {
		if delta < 0 {
			s.tat -= span(-delta, w, limit)
		} else {
			s.tat += span(delta, w, limit)
		}
		return
	}
	if s.i == idx {
		s.c = max(0, s.c+delta)
	}
}
