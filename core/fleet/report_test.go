package fleet

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestShort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"short", "start function exceeded 2s"},
		{"exactly the cap", strings.Repeat("a", MaxErrorLen)},
		{"ascii over the cap", strings.Repeat("a", 500)},
		{"multi-byte at the cut", strings.Repeat("é", 300)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Short(tc.in)
			assert.LessOrEqual(t, len(got), MaxErrorLen)
			assert.True(t, utf8.ValidString(got))
			if len(tc.in) <= MaxErrorLen {
				assert.Equal(t, tc.in, got)
			} else {
				assert.True(t, strings.HasSuffix(got, "…"))
			}
			r := Report{Instance: "px1", Plugins: []Plugin{{Name: "p", State: StateFailed, Error: got}}}
			assert.NoError(t, r.Validate(), "a shortened cause always passes the central server's check")
		})
	}
}
