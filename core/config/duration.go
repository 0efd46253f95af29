package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as "30s", "5m", "1h30m", "7d",
// "1d12h" or a plain integer of seconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes d in a form ParseDuration reads back.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML accepts a duration string or an integer of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("decoding duration: expected a scalar at line %d", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

const day = 24 * time.Hour

// ParseDuration reads the Duration forms: a Go duration ("90s", "1h30m"), a
// day count with an optional Go duration after it ("7d", "1d12h"), or a
// plain integer of seconds ("300").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("invalid duration %q: empty", s)
	}
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		if secs > math.MaxInt64/int64(time.Second) || secs < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("invalid duration %q: out of range", s)
		}
		return Duration(time.Duration(secs) * time.Second), nil
	}
	if i := strings.IndexByte(s, 'd'); i > 0 {
		days, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || days < 0 || days > int64(math.MaxInt64/day) {
			return 0, fmt.Errorf("invalid duration %q: want e.g. 30s, 5m, 1h, 7d or seconds", s)
		}
		total := time.Duration(days) * day
		if rest := s[i+1:]; rest != "" {
			r, err := time.ParseDuration(rest)
			if err != nil || r < 0 || r > math.MaxInt64-total {
				return 0, fmt.Errorf("invalid duration %q: want e.g. 30s, 5m, 1h, 7d or seconds", s)
			}
			total += r
		}
		return Duration(total), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want e.g. 30s, 5m, 1h, 7d or seconds", s)
	}
	return Duration(v), nil
}
