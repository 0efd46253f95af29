package providers

import (
	"unicode"
	"unicode/utf8"
)

// Keys is the set of member names an adapter acts on in the objects it
// walks. Providers decode JSON differently: many keep the last of a
// repeated member, and lax decoders (Go's encoding/json and servers built on
// it) match member names without regard to case, under Unicode simple case
// folding, so "MODEL", "Model" and "moˈdel" with a Kelvin sign or long s
// all reach the field the gateway reads as "model". A name the gateway
// reads must therefore appear once, written exactly: Member refuses a
// repeat (ErrDupField) and any other spelling that folds onto it, escaped
// ("mod\u0065l") or not (ErrVariantKey).
//
// Names must be lower-case ASCII letters, digits and underscores, at most
// 64 of them per set.
type Keys struct {
	bits map[string]uint64
}

// NewKeys builds a set; it panics on a name it cannot hold (a programming
// error, caught by any test that builds the package's sets).
func NewKeys(names ...string) *Keys {
	if len(names) > 64 {
		panic("providers: more than 64 keys in a set")
	}
	k := &Keys{bits: make(map[string]uint64, len(names))}
	for i, n := range names {
		if !plainName([]byte(n)) {
			panic("providers: key " + n + " is not lower-case ASCII")
		}
		k.bits[n] = 1 << i
	}
	return k
}

// Has reports whether name is in the set.
func (k *Keys) Has(name string) bool { _, ok := k.bits[name]; return ok }

// Member returns the decoded name of the member whose key is key, checking
// it against the set: a name of the set seen before in the same object
// (seen holds the object's bits, zero at its start) fails the scanner with
// ErrDupField, and a spelling that folds onto a name of the set without
// being it fails it with ErrVariantKey. After a failure it returns nil, and
// the object's iteration ends.
//
// The common key (unescaped, lower-case ASCII) costs one map lookup and no
// allocation.
func (k *Keys) Member(s *Scanner, key Value, seen *uint64) []byte {
	name := s.Key(key)
	if !key.Escaped && plainName(name) {
		if bit := k.bits[string(name)]; bit != 0 {
			if *seen&bit != 0 {
				s.Fail(&KeyError{Name: string(name), Err: ErrDupField})
				return nil
			}
			*seen |= bit
		}
		return name
	}
	var buf [128]byte
	folded := FoldName(buf[:0], name)
	if bit := k.bits[string(folded)]; bit != 0 {
		s.Fail(&KeyError{Name: spelling(s.body, key), Canonical: string(folded), Err: ErrVariantKey})
		return nil
	}
	return name
}

// plainName reports whether name uses only lower-case ASCII letters,
// digits and underscores: a spelling no case folding changes.
func plainName(name []byte) bool {
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// FoldName appends the case-folded form of name to dst: each rune replaced
// by the smallest rune of its Unicode simple-folding orbit (as
// encoding/json matches names), then ASCII lowered. Names that a lax
// decoder treats as equal fold to the same bytes.
func FoldName(dst, name []byte) []byte {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		i += n
		r = foldRune(r)
		if r < utf8.RuneSelf && r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// foldRune returns the smallest rune of r's simple-folding orbit.
func foldRune(r rune) rune {
	lo := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		lo = min(lo, f)
	}
	return lo
}

// KeyError is a refused member name. Name is the spelling found; for
// ErrVariantKey, Canonical is the name it folds onto.
type KeyError struct {
	Name      string
	Canonical string
	Err       error
}

func (e *KeyError) Error() string {
	if e.Canonical != "" {
		return "member \"" + e.Name + "\" is another spelling of " + quoteName(e.Canonical) +
			" (case variants and escaped names are refused: providers may read them as the same field)"
	}
	return "member " + quoteName(e.Name) + " appears more than once"
}

func (e *KeyError) Unwrap() error { return e.Err }

// quoteName renders a name for an error message.
func quoteName(n string) string {
	return string(AppendStringText(nil, n))
}

// spelling returns a key as the client wrote it (escapes kept), cut to a
// length fit for an error message.
func spelling(body []byte, key Value) string {
	raw := body[key.Start+1 : key.End-1]
	if len(raw) > 80 {
		raw = raw[:80]
	}
	return string(raw)
}
