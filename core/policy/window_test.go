package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseWindow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want time.Duration
		bad  bool
	}{
		{name: "seconds", in: "30s", want: 30 * time.Second},
		{name: "one minute", in: "1m", want: time.Minute},
		{name: "minutes", in: "15m", want: 15 * time.Minute},
		{name: "hour", in: "1h", want: time.Hour},
		{name: "day in hours", in: "24h", want: 24 * time.Hour},
		{name: "week", in: "7d", want: 7 * 24 * time.Hour},
		{name: "minimum", in: "1s", want: time.Second},
		{name: "maximum", in: "31d", want: 31 * 24 * time.Hour},
		{name: "maximum in hours", in: "744h", want: 744 * time.Hour},
		{name: "leading zero", in: "05m", want: 5 * time.Minute},
		{name: "empty", in: "", bad: true},
		{name: "unit only", in: "s", bad: true},
		{name: "bad unit", in: "5x", bad: true},
		{name: "upper-case unit", in: "1M", bad: true},
		{name: "zero", in: "0m", bad: true},
		{name: "negative", in: "-1m", bad: true},
		{name: "fraction", in: "1.5h", bad: true},
		{name: "compound", in: "1h30m", bad: true},
		{name: "above maximum", in: "32d", bad: true},
		{name: "above maximum in hours", in: "745h", bad: true},
		{name: "overflow", in: "99999999999999999999d", bad: true},
		{name: "spaces", in: " 1m", bad: true},
		{name: "milliseconds", in: "100ms", bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseWindow(tc.in)
			if tc.bad {
				require.ErrorIs(t, err, ErrInvalidWindow)
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestWindowDurationUnvalidated(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 15*time.Minute, RateRule{Window: "15m"}.WindowDuration())
	assert.Zero(t, RateRule{Window: "soon"}.WindowDuration())
}
