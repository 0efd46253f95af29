package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed semantic version: MAJOR[.MINOR[.PATCH]] with an
// optional -prerelease; +build metadata is accepted and ignored, as
// semver orders it.
type Version struct {
	core [3]uint64
	pre  []string
}

// maxVersionLen bounds what ParseVersion reads.
const maxVersionLen = 64

// ParseVersion parses s, with or without a leading "v".
func ParseVersion(s string) (Version, error) {
	bad := func(why string) (Version, error) {
		return Version{}, fmt.Errorf("%w: version %q %s", ErrMalformed, s, why)
	}
	if s == "" {
		return bad("is empty")
	}
	if len(s) > maxVersionLen {
		return bad(fmt.Sprintf("is longer than %d characters", maxVersionLen))
	}
	rest := strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		if !validIdents(rest[i+1:], false) {
			return bad("has malformed build metadata")
		}
		rest = rest[:i]
	}
	var v Version
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		if !validIdents(rest[i+1:], true) {
			return bad("has a malformed pre-release")
		}
		v.pre = strings.Split(rest[i+1:], ".")
		rest = rest[:i]
	}
	parts := strings.Split(rest, ".")
	if len(parts) > 3 {
		return bad("has more than three numbers")
	}
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') || !allDigits(p) {
			return bad("must be numbers like 1.2.3 (no leading zeros)")
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return bad("has a number out of range")
		}
		v.core[i] = n
	}
	return v, nil
}

// Compare returns -1, 0 or +1 as v orders before, with or after w.
func (v Version) Compare(w Version) int {
	for i := range v.core {
		if c := cmpUint(v.core[i], w.core[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.pre) == 0 && len(w.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1 // a release follows its pre-releases
	case len(w.pre) == 0:
		return -1
	}
	for i := 0; i < len(v.pre) && i < len(w.pre); i++ {
		if c := cmpIdent(v.pre[i], w.pre[i]); c != 0 {
			return c
		}
	}
	return cmpUint(uint64(len(v.pre)), uint64(len(w.pre)))
}

// CompareVersions parses and compares two version strings.
func CompareVersions(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// cmpIdent orders pre-release identifiers: numeric ones numerically and
// before alphanumeric ones, which compare as ASCII.
func cmpIdent(a, b string) int {
	an, bn := allDigits(a), allDigits(b)
	switch {
	case an && bn:
		if len(a) != len(b) { // no leading zeros: longer is larger
			return cmpUint(uint64(len(a)), uint64(len(b)))
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// validIdents checks dot-separated [0-9A-Za-z-] identifiers; numeric ones
// in a pre-release may not have leading zeros.
func validIdents(s string, pre bool) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && len(id) > 1 && id[0] == '0' && allDigits(id) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
