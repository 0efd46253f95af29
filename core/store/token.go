package store

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

const (
	// TokenPrefix starts every token, so leaked tokens are easy to scan for.
	TokenPrefix = "tkn_"
	// tokenRandBytes of entropy, encoded as 43 base64url characters.
	tokenRandBytes = 32
	tokenLen       = len(TokenPrefix) + (tokenRandBytes*8+5)/6
)

// NewToken returns a fresh token: "tkn_" and the unpadded base64url of 32
// random bytes.
func NewToken() (string, error) {
	var raw [tokenRandBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// ValidTokenFormat reports whether s has the shape NewToken produces. It does
// not allocate, so the proxy can reject garbage before hashing it.
func ValidTokenFormat(s string) bool {
	if len(s) != tokenLen || s[:len(TokenPrefix)] != TokenPrefix {
		return false
	}
	body := s[len(TokenPrefix):]
	for i := 0; i < len(body); i++ {
		if b64Value(body[i]) < 0 {
			return false
		}
	}
	// 43 characters carry 258 bits; canonical encodings leave the last 2 zero.
	return b64Value(body[len(body)-1])&0b11 == 0
}

// b64Value returns the 6-bit value of a base64url character, or -1.
func b64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}
