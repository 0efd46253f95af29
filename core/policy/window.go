package policy

import (
	"fmt"
	"strconv"
	"time"
)

// Window bounds.
const (
	MinWindow = time.Second
	MaxWindow = 31 * 24 * time.Hour
)

const windowHelp = "use a positive integer followed by s, m, h or d, e.g. 30s, 15m, 24h, 7d"

// ParseWindow parses a rate-limit window: a positive integer and one unit of
// s, m, h or d ("30s", "15m", "24h", "7d"), between MinWindow and MaxWindow.
// Errors wrap ErrInvalidWindow.
func ParseWindow(s string) (time.Duration, error) {
	d, msg := parseWindow(s)
	if msg != "" {
		return 0, fmt.Errorf("%w %q: %s", ErrInvalidWindow, s, msg)
	}
	return d, nil
}

// parseWindow returns the duration, or a message saying what is wrong.
func parseWindow(s string) (time.Duration, string) {
	if len(s) < 2 {
		return 0, windowHelp
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	default:
		return 0, windowHelp
	}
	digits := s[:len(s)-1]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, windowHelp
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n > uint64(MaxWindow/unit) {
		return 0, "must be at most 31d"
	}
	if n == 0 {
		return 0, "must be positive; " + windowHelp
	}
	return time.Duration(n) * unit, ""
}

// WindowDuration returns the parsed Window. Validate computes it; for a rule
// that was not validated it parses Window and returns 0 when that fails.
func (r RateRule) WindowDuration() time.Duration {
	if r.window != 0 {
		return r.window
	}
	d, _ := parseWindow(r.Window)
	return d
}
