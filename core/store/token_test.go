package store

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewToken(t *testing.T) {
	t.Parallel()
	a, err := NewToken()
	require.NoError(t, err)
	b, err := NewToken()
	require.NoError(t, err)
	assert.True(t, ValidTokenFormat(a), a)
	assert.True(t, strings.HasPrefix(a, TokenPrefix))
	assert.Len(t, a, tokenLen)
	assert.NotEqual(t, a, b)
}

func TestValidTokenFormat(t *testing.T) {
	t.Parallel()
	good := "tkn_" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{name: "valid", token: good, want: true},
		{name: "valid url alphabet", token: "tkn_-_" + good[6:], want: true},
		{name: "empty", token: "", want: false},
		{name: "wrong prefix", token: "tok_" + good[4:], want: false},
		{name: "no prefix", token: good[4:], want: false},
		{name: "too short", token: good[:len(good)-1], want: false},
		{name: "too long", token: good + "A", want: false},
		{name: "std alphabet", token: "tkn_+" + good[5:], want: false},
		{name: "padding", token: good[:len(good)-1] + "=", want: false},
		{name: "non-canonical last char", token: good[:len(good)-1] + "B", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, ValidTokenFormat(tc.token))
		})
	}
}

// FuzzValidTokenFormat checks the hand-written check against a strict decode.
func FuzzValidTokenFormat(f *testing.F) {
	tok, _ := NewToken()
	f.Add(tok)
	f.Add("tkn_")
	f.Add("tkn_" + strings.Repeat("A", 42) + "B")
	f.Fuzz(func(t *testing.T, s string) {
		want := false
		if body, ok := strings.CutPrefix(s, TokenPrefix); ok {
			// The decoder skips \r and \n even in strict mode; tokens may not.
			raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
			want = err == nil && len(raw) == tokenRandBytes && !strings.ContainsAny(body, "\r\n")
		}
		if got := ValidTokenFormat(s); got != want {
			t.Fatalf("ValidTokenFormat(%q) = %v, strict decode says %v", s, got, want)
		}
	})
}
