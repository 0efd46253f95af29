package events

import (
	"fmt"
	"strings"
)

// Match reports whether eventType passes a target's filter. An empty list or
// a "*" entry matches everything; otherwise an entry matches its exact type,
// and "prefix.*" matches every type that starts with "prefix.".
func Match(patterns []string, eventType string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p == "*" || p == eventType {
			return true
		}
		if n := len(p); n > 2 && p[n-2:] == ".*" &&
			len(eventType) > n-1 && eventType[:n-1] == p[:n-1] {
			return true
		}
	}
	return false
}

// ValidPattern reports whether p is a filter entry Match understands: "*",
// an event type, or "prefix.*". A "*" anywhere else is a mistake
// ("token*", "*.created") that would otherwise silently match nothing.
func ValidPattern(p string) error {
	switch {
	case p == "*":
		return nil
	case p == "" || strings.TrimSpace(p) != p:
		return fmt.Errorf("%w: %q", ErrBadPattern, p)
	case strings.HasSuffix(p, ".*"):
		if len(p) == 2 || strings.Contains(p[:len(p)-2], "*") {
			return fmt.Errorf("%w: %q", ErrBadPattern, p)
		}
		return nil
	case strings.Contains(p, "*"):
		return fmt.Errorf("%w: %q (only \"*\" and \"prefix.*\" are wildcards)", ErrBadPattern, p)
	}
	return nil
}
