package clientaddr

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestW6rCounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"console", "console"},
		{"unknown", "unknown"},
	} {
		assert.Equal(t, tc.want, Counted(tc.in), tc.in)
	}
}
