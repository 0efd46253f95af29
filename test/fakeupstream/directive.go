package fakeupstream

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrDirective marks a malformed or unknown [[fake:...]] directive; the server
// answers it with 400 so that a typo in a test cannot pass silently.
var ErrDirective = errors.New("fakeupstream: bad directive")

const (
	directiveOpen  = "[[fake:"
	directiveClose = "]]"

	maxLong  = 1 << 20
	maxDelay = 10 * time.Minute
)

// directives is what the triggers in a prompt (or a scripted fault) ask for.
type directives struct {
	status     int
	retryAfter string
	slow       time.Duration
	long       int // -1: no long reply
	cached     int
	cacheWrite int
	reasoning  int
	tool       string
	toolSet    bool
	truncate   bool
	nousage    bool
	gzip       bool
	malformed  bool
	hang       bool
	nocap      bool // ignore output caps, as a misbehaving provider would
	hosted     bool // hosted (server) tool items and citations carry the reply too
}

func noDirectives() directives { return directives{long: -1} }

// parseDirectives reads every [[fake:...]] in text and returns them with the
// text stripped of them (and trimmed). Text without directives costs nothing.
func parseDirectives(text string) (directives, string, error) {
	d := noDirectives()
	if !strings.Contains(text, directiveOpen) {
		return d, strings.TrimSpace(text), nil
	}
	var clean strings.Builder
	rest := text
	for {
		before, after, found := strings.Cut(rest, directiveOpen)
		clean.WriteString(before)
		if !found {
			break
		}
		body, tail, closed := strings.Cut(after, directiveClose)
		if !closed {
			return d, "", fmt.Errorf("parsing %q: unterminated: %w", directiveOpen+after, ErrDirective)
		}
		if err := d.apply(body); err != nil {
			return d, "", err
		}
		rest = tail
	}
	return d, strings.TrimSpace(clean.String()), nil
}

// apply adds a comma-separated list of directive items, e.g. "slow=10ms,truncate".
func (d *directives) apply(list string) error {
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if err := d.applyItem(item); err != nil {
			return fmt.Errorf("parsing directive %q: %w", item, err)
		}
	}
	return nil
}

func (d *directives) applyItem(item string) error {
	key, val, hasVal := strings.Cut(item, "=")
	if n, err := strconv.Atoi(key); err == nil && !hasVal {
		return d.setStatus(n)
	}
	flag := func(p *bool) error {
		if hasVal {
			return fmt.Errorf("takes no value: %w", ErrDirective)
		}
		*p = true
		return nil
	}
	switch key {
	case "truncate":
		return flag(&d.truncate)
	case "nousage":
		return flag(&d.nousage)
	case "gzip":
		return flag(&d.gzip)
	case "malformed":
		return flag(&d.malformed)
	case "hang":
		return flag(&d.hang)
	case "nocap":
		return flag(&d.nocap)
	case "hosted":
		return flag(&d.hosted)
	case "tool":
		d.toolSet, d.tool = true, val
		return nil
	}
	if !hasVal || val == "" {
		return fmt.Errorf("unknown or needs a value: %w", ErrDirective)
	}
	switch key {
	case "status":
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("status %q: %w", val, ErrDirective)
		}
		return d.setStatus(n)
	case "retry_after":
		d.retryAfter = val
		return nil
	case "slow":
		v, err := time.ParseDuration(val)
		if err != nil || v < 0 || v > maxDelay {
			return fmt.Errorf("duration %q: %w", val, ErrDirective)
		}
		d.slow = v
		return nil
	case "long":
		return setCount(&d.long, val, maxLong)
	case "cached":
		return setCount(&d.cached, val, maxLong)
	case "cache_write":
		return setCount(&d.cacheWrite, val, maxLong)
	case "reasoning":
		return setCount(&d.reasoning, val, maxLong)
	}
	return fmt.Errorf("unknown key: %w", ErrDirective)
}

func (d *directives) setStatus(n int) error {
	if n < 200 || n > 599 {
		return fmt.Errorf("status %d out of range: %w", n, ErrDirective)
	}
	d.status = n
	return nil
}

func setCount(p *int, val string, limit int) error {
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 || n > limit {
		return fmt.Errorf("count %q (0..%d): %w", val, limit, ErrDirective)
	}
	*p = n
	return nil
}

// merge lays a scripted fault over the prompt's directives: set fields of s win.
func (d *directives) merge(s directives) {
	if s.status != 0 {
		d.status = s.status
	}
	if s.retryAfter != "" {
		d.retryAfter = s.retryAfter
	}
	if s.slow != 0 {
		d.slow = s.slow
	}
	if s.long >= 0 {
		d.long = s.long
	}
	d.cached = max(d.cached, s.cached)
	d.cacheWrite = max(d.cacheWrite, s.cacheWrite)
	d.reasoning = max(d.reasoning, s.reasoning)
	if s.toolSet {
		d.tool, d.toolSet = s.tool, true
	}
	d.truncate = d.truncate || s.truncate
	d.nousage = d.nousage || s.nousage
	d.gzip = d.gzip || s.gzip
	d.malformed = d.malformed || s.malformed
	d.hang = d.hang || s.hang
	d.nocap = d.nocap || s.nocap
}
