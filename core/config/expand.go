package config

import (
	"errors"
	"fmt"
	"strings"
)

var errUnterminated = errors.New(`unterminated "${" (write "$${" for a literal "${")`)

// expand replaces each ${NAME} in s with lookup(NAME), each ${NAME:-word}
// with lookup(NAME) or word when that is empty (as the shell does), and each
// $${ with a literal ${. It works on one already-parsed scalar, so whatever a variable
// holds stays inside that scalar.
func expand(s string, lookup func(string) string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(rest, "${"):
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return "", errUnterminated
			}
			name, def, hasDef := strings.Cut(rest[2:end], ":-")
			if !validEnvName(name) {
				return "", fmt.Errorf("invalid variable name %q in \"${...}\"", name)
			}
			v := lookup(name)
			if v == "" && hasDef {
				v = def
			}
			b.WriteString(v)
			i += end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// validEnvName reports whether s is a portable environment variable name:
// a letter or underscore, then letters, digits or underscores.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
