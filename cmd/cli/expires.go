package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseExpiry reads --expires: a duration with unit h, d, w or y (24h, 7d,
// 90d, 1y), any Go duration, or an RFC 3339 time. "clear" (update only)
// removes the expiry and is reported through clear.
func parseExpiry(s string, now time.Time, allowClear bool) (at *time.Time, clear bool, err error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, false, nil
	case s == "clear" || s == "never":
		if !allowClear {
			return nil, false, fmt.Errorf("--expires: %q is only valid for token update", s)
		}
		return nil, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if !t.After(now) {
			return nil, false, fmt.Errorf("--expires: %s is in the past", s)
		}
		return &t, false, nil
	}
	d, err := parseLongDuration(s)
	if err != nil {
		return nil, false, fmt.Errorf("--expires: %q is neither a duration (24h, 7d, 90d, 1y) nor an RFC 3339 time", s)
	}
	if d <= 0 {
		return nil, false, fmt.Errorf("--expires: %q must be positive", s)
	}
	t := now.Add(d).UTC().Truncate(time.Second)
	return &t, false, nil
}

func parseLongDuration(s string) (time.Duration, error) {
	if len(s) >= 2 {
		unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[s[len(s)-1]]
		if unit != 0 {
			n, err := strconv.ParseInt(s[:len(s)-1], 10, 32)
			if err != nil || n > 100*365 {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(n) * unit, nil
		}
	}
	return time.ParseDuration(s)
}
