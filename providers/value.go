package providers

import (
	"math"
	"strconv"
)

// IsNull reports whether v is the literal null.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// Int returns the value of an integral number. A number with a zero
// fraction or an exponent (100.0, 1e3) is accepted when it is integral and
// fits in int64; anything else is ErrType.
func (v Value) Int(body []byte) (int64, error) {
	if v.Kind != KindNumber {
		return 0, ErrType
	}
	raw := body[v.Start:v.End]
	digits := raw
	if raw[0] == '-' {
		digits = raw[1:]
	}
	integer := true
	for _, c := range digits {
		if c < '0' || c > '9' {
			integer = false
			break
		}
	}
	if integer && len(digits) <= 18 {
		var n int64
		for _, c := range digits {
			n = n*10 + int64(c-'0')
		}
		if raw[0] == '-' {
			n = -n
		}
		return n, nil
	}
	if integer {
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return 0, ErrType
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	// 2^63 is the first float64 above the int64 range.
	if err != nil || f != math.Trunc(f) || f >= 1<<63 || f < -(1<<63) {
		return 0, ErrType
	}
	return int64(f), nil
}

// Bool returns the value of true or false.
func (v Value) Bool() (bool, error) {
	switch v.Kind {
	case KindTrue:
		return true, nil
	case KindFalse:
		return false, nil
	}
	return false, ErrType
}

// Text appends the decoded text of a string value to dst.
func (v Value) Text(dst, body []byte) ([]byte, error) {
	if v.Kind != KindString {
		return dst, ErrType
	}
	if !v.Escaped {
		return append(dst, body[v.Start+1:v.End-1]...), nil
	}
	return appendUnescaped(dst, body[v.Start+1:v.End-1])
}

// Equal reports whether v is a string whose text is s.
func (v Value) Equal(body []byte, s string) bool {
	if v.Kind != KindString {
		return false
	}
	inner := body[v.Start+1 : v.End-1]
	if !v.Escaped {
		return string(inner) == s
	}
	var buf [64]byte
	out, err := appendUnescaped(buf[:0], inner)
	return err == nil && string(out) == s
}

// String returns the decoded text of a string value, or "" for any other
// kind. It allocates; use it for short fields such as model names.
func (v Value) String(body []byte) string {
	if v.Kind != KindString {
		return ""
	}
	if !v.Escaped {
		return string(body[v.Start+1 : v.End-1])
	}
	var buf [64]byte
	out, err := appendUnescaped(buf[:0], body[v.Start+1:v.End-1])
	if err != nil {
		return ""
	}
	return string(out)
}
