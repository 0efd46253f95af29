package derive

import (
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// Entry maps one rune to the ASCII character it is confusable with.
type Entry struct {
	R  rune
	To byte
}

// Confusables returns, sorted by rune, every non-ASCII rune up to U+1FFFF
// that NFKC leaves unchanged and whose TR39 skeleton is one printable
// ASCII character other than itself. Runes NFKC changes are left out:
// normalization maps them first, and the table applies to its output.
func Confusables() []Entry {
	var out []Entry
	var buf [utf8.UTFMax]byte
	classes := asciiClasses()
	for r := rune(0x80); r <= 0x1FFFF; r++ {
		if !utf8.ValidRune(r) || !unicode.IsGraphic(r) {
			continue
		}
		s := buf[:utf8.EncodeRune(buf[:], r)]
		if !norm.NFKC.IsNormal(s) {
			continue
		}
		sk := confusables.Skeleton(string(s))
		if len(sk) != 1 || sk[0] <= 0x20 || sk[0] >= 0x7F {
			continue
		}
		out = append(out, Entry{R: r, To: sameKind(r, classes[sk[0]], sk[0])})
	}
	return out
}

// asciiClasses groups printable ASCII characters by skeleton: TR39 maps
// look-alikes to one prototype ('I' and '1' to 'l', '0' to 'O').
func asciiClasses() map[byte][]byte {
	cl := make(map[byte][]byte)
	for c := byte(0x21); c < 0x7F; c++ {
		sk := confusables.Skeleton(string(rune(c)))
		if len(sk) == 1 {
			cl[sk[0]] = append(cl[sk[0]], c)
		}
	}
	return cl
}

// sameKind picks, among the ASCII characters sharing r's skeleton, one of
// r's kind (upper-case letter, lower-case letter, digit), so Greek capital
// iota reads as 'I', not as the prototype 'l'. Without one it keeps the
// prototype.
func sameKind(r rune, class []byte, proto byte) byte {
	for _, c := range class {
		cr := rune(c)
		if unicode.IsUpper(r) && unicode.IsUpper(cr) || unicode.IsLower(r) && unicode.IsLower(cr) ||
			unicode.IsDigit(r) && unicode.IsDigit(cr) {
			return c
		}
	}
	return proto
}
