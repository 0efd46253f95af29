package central

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestW6rStrongKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"Xq7-vR2pLm9sT4wZk8YbN3cHf6JdG1aE5uQ0iOeW", true},
		{"0123456789abcdef0123456789abcdef", true},
		{"central-e2e-api-key-0123456789", false}, // 30 characters
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"abababababababababababababababababababab", false},
		{"", false},
		{"change-me-to-match-remote-server", false}, // SEED's placeholder
		{"my-example-central-key-0123456789", false},
	} {
		assert.Equal(t, tc.want, strongKey(tc.key), tc.key)
	}
}
