package clientaddr

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzResolve feeds arbitrary headers from a trusted and an untrusted
// peer: the parser must not panic, an untrusted peer always gets itself,
// and a trusted peer gets a valid address that is either itself or one
// the headers name.
func FuzzResolve(f *testing.F) {
	f.Add("198.51.100.7, 10.0.0.1", `for="[2001:db8::1]:80";proto=https, for=10.0.0.2`)
	f.Add(`"`, `for="\`)
	f.Add(",,,", ";;;=,=")
	f.Add("unknown", "for=_hidden")
	f.Add("[::1]:99999", `for="[::ffff:1.2.3.4]"`)
	f.Add("1.2.3.4:", `FOR=1.2.3.4;for=5.6.7.8`)
	peerOK := netip.MustParseAddr("10.0.0.5")
	peerBad := netip.MustParseAddr("203.0.113.9")
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		var xffs, fwds []string
		if xff != "" {
			xffs = strings.Split(xff, "\n")
		}
		if fwd != "" {
			fwds = strings.Split(fwd, "\n")
		}
		if got := trusted.Resolve(peerBad, xffs, fwds); got != peerBad {
			t.Fatalf("untrusted peer resolved to %v", got)
		}
		got := trusted.Resolve(peerOK, xffs, fwds)
		if !got.IsValid() || got.String() == "" || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("invalid client %q", got)
		}
		if got != peerOK && !named(got, xffs, fwds) {
			t.Fatalf("client %v is neither the peer nor a hop of the headers", got)
		}
	})
}

// named reports whether a is the address of some hop of the headers.
func named(a netip.Addr, xff, fwd []string) bool {
	for h := range rightToLeft(xff, xffElements) {
		if b, ok := parseNode(h); ok && b == a {
			return true
		}
	}
	for h := range rightToLeft(fwd, forwardedElements) {
		if b, ok := forwardedFor(h); ok && b == a {
			return true
		}
	}
	return false
}

// FuzzForwardedElements checks the backward element scanner: it never
// panics and every element it yields is a substring of the line.
func FuzzForwardedElements(f *testing.F) {
	f.Add(`for=1.2.3.4, for="[::1]";by=x`)
	f.Add(`"a\",b", c`)
	f.Add(`\\"`)
	f.Fuzz(func(t *testing.T, line string) {
		forwardedElements(line, func(el string) bool {
			if !strings.Contains(line, el) || el == "" {
				t.Fatalf("element %q not in %q", el, line)
			}
			_, _ = forwardedFor(el)
			return true
		})
	})
}
