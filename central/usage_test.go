package central

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in string
		want     time.Time
		bad      bool
	}{
		{name: "default", in: "", want: now.Add(-24 * time.Hour)},
		{name: "duration", in: "90m", want: now.Add(-90 * time.Minute)},
		{name: "days", in: "7d", want: now.Add(-7 * 24 * time.Hour)},
		{name: "date", in: "2026-12-01", want: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{name: "rfc3339", in: "2026-12-07T10:00:00Z", want: now.Add(-2 * time.Hour)},
		{name: "negative", in: "-1h", bad: true},
		{name: "junk", in: "yesterday", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSince(tc.in, now)
			if tc.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.True(t, tc.want.Equal(got), "got %s", got)
		})
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"", "24h", "7d", "2026-12-01", "2026-12-07T10:00:00Z", "1.5d", "d", "-3d"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err == nil && got.After(now) && s != "" {
			// Only an absolute time may lie ahead; a duration never does.
			if _, perr := time.Parse(time.RFC3339, s); perr != nil {
				if _, derr := time.Parse(time.DateOnly, s); derr != nil {
					t.Fatalf("%q parsed to %s, after now", s, got)
				}
			}
		}
	})
}
