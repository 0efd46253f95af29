package pricing

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ErrInvalidAmount marks a dollar amount ParseUSD cannot read exactly.
var ErrInvalidAmount = errors.New("pricing: invalid dollar amount")

// maxUSDDigits bounds the integer digits ParseUSD reads: 10^12 dollars is
// beyond every bound the callers check, and 10^12 × 10^6 fits an int64.
const maxUSDDigits = 12

// ParseUSD reads a non-negative dollar amount written in decimal ("2.50",
// "0.075", "3") into micro-dollars, exactly: no float rounding, at most six
// decimals (a seventh non-zero digit is an error, not rounded away).
func ParseUSD(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrInvalidAmount)
	}
	intPart, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
			break
		}
	}
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("%w %q: no digits", ErrInvalidAmount, s)
	}
	if len(intPart) > maxUSDDigits {
		return 0, fmt.Errorf("%w %q: too large", ErrInvalidAmount, s)
	}
	var whole int64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w %q: write a plain decimal such as 2.50", ErrInvalidAmount, s)
		}
		whole = whole*10 + int64(c-'0')
	}
	var micros int64
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w %q: write a plain decimal such as 2.50", ErrInvalidAmount, s)
		}
		if i >= 6 {
			if c != '0' {
				return 0, fmt.Errorf("%w %q: more than six decimals (micro-dollars)", ErrInvalidAmount, s)
			}
			continue
		}
		micros += int64(c-'0') * pow10[5-i]
	}
	return whole*Micro + micros, nil
}

var pow10 = [6]int64{1, 10, 100, 1_000, 10_000, 100_000}

// FromFloat converts a dollar amount decoded from JSON into micro-dollars
// through its shortest decimal form, so 0.1 is 100,000 exactly. It fails
// like ParseUSD, and for negative, infinite and NaN values.
func FromFloat(v float64) (int64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%w: %v", ErrInvalidAmount, v)
	}
	return ParseUSD(strconv.FormatFloat(v, 'f', -1, 64))
}

// AppendUSD appends micro-dollars as dollars with six decimals: "$0.000412".
func AppendUSD(dst []byte, micros int64) []byte {
	dst = append(dst, '$')
	if micros < 0 {
		dst = append(dst, '-')
		micros = -micros
	}
	dst = strconv.AppendInt(dst, micros/Micro, 10)
	dst = append(dst, '.')
	f := micros % Micro
	for p := Micro / 10; p > 0; p /= 10 {
		dst = append(dst, byte('0'+f/p%10))
	}
	return dst
}

// FormatUSD is AppendUSD as a string.
func FormatUSD(micros int64) string { return string(AppendUSD(nil, micros)) }

// Rates are a price list's entries as written: decimal dollars per 1M
// tokens, and per request; "" leaves a rate out (see Price.Normalize).
type Rates struct {
	Input, CachedInput, CacheWrite, Output, Reasoning, Request string
}

// FieldError names the rate of a price list entry that did not parse.
type FieldError struct {
	Field string // "input", "cached_input", …
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// ParsePrice reads a price list entry. Input and output are required; each
// rate is at most MaxRate, the fee at most MaxFee. Every problem is
// returned, joined, each a *FieldError.
func ParsePrice(r Rates) (Price, error) {
	var errs []error
	rate := func(name, s string, required bool, limit int64) int64 {
		if s == "" {
			if required {
				errs = append(errs, &FieldError{Field: name, Err: errors.New("is required")})
			}
			return -1
		}
		v, err := ParseUSD(s)
		switch {
		case err != nil:
			errs = append(errs, &FieldError{Field: name, Err: err})
		case v > limit:
			errs = append(errs, &FieldError{Field: name, Err: fmt.Errorf("%w %q: above the largest accepted, %s", ErrInvalidAmount, s, FormatUSD(limit))})
		}
		return v
	}
	p := Price{
		Input:       rate("input", r.Input, true, MaxRate),
		CachedInput: rate("cached_input", r.CachedInput, false, MaxRate),
		CacheWrite:  rate("cache_write", r.CacheWrite, false, MaxRate),
		Output:      rate("output", r.Output, true, MaxRate),
		Reasoning:   rate("reasoning", r.Reasoning, false, MaxRate),
		Request:     rate("request", r.Request, false, MaxFee),
	}
	if len(errs) > 0 {
		return Price{}, errors.Join(errs...)
	}
	p.Normalize()
	return p, nil
}
