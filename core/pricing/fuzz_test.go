package pricing

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseUSD checks that ParseUSD never panics, never returns a negative
// amount, and that what it accepts prints back to the same amount.
func FuzzParseUSD(f *testing.F) {
	for _, s := range []string{"0", "2.50", "0.075", ".5", "7.", "1e-6", "-1", "0.0000001", "999999999999.999999", "1.2.3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseUSD(s)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("ParseUSD(%q) = %d, negative", s, v)
		}
		back, err := ParseUSD(strings.TrimPrefix(FormatUSD(v), "$"))
		if err != nil || back != v {
			t.Fatalf("ParseUSD(%q) = %d, but its printed form %s reads %d (%v)", s, v, FormatUSD(v), back, err)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && v == 0 {
			t.Fatalf("ParseUSD(%q) = 0 for a positive amount", s)
		}
	})
}
