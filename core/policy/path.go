package policy

import "strconv"

// path builds JSON paths like `rules[1].action` while a document is walked.
// Keys that are not plain identifiers are quoted: `metadata["a b"]`.
type path struct{ b []byte }

// key appends an object key and returns the length to restore with pop.
func (p *path) key(k string) int {
	n := len(p.b)
	p.b = appendKey(p.b, k)
	return n
}

// index appends an array index and returns the length to restore with pop.
func (p *path) index(i int) int {
	n := len(p.b)
	p.b = append(p.b, '[')
	p.b = strconv.AppendInt(p.b, int64(i), 10)
	p.b = append(p.b, ']')
	return n
}

func (p *path) pop(n int) { p.b = p.b[:n] }

func (p *path) String() string { return string(p.b) }

// joinKey is key for callers that build paths as strings.
func joinKey(prefix, k string) string {
	return string(appendKey([]byte(prefix), k))
}

func appendKey(b []byte, k string) []byte {
	if !plainKey(k) {
		b = append(b, '[')
		b = appendString(b, k)
		return append(b, ']')
	}
	if len(b) > 0 {
		b = append(b, '.')
	}
	return append(b, k...)
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
