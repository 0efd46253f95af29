package events

import "time"

// clock lets tests run backoff schedules without waiting.
type clock interface {
	Now() time.Time
	// After returns a channel that fires after d and a func that releases
	// the timer early.
	After(d time.Duration) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) After(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// Interface guards.
var _ clock = realClock{}
