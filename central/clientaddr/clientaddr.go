package clientaddr

import (
	"iter"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds the client of a request. The zero value and a nil
// *Resolver trust no proxy: the client is the TCP peer.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that reads the forwarding headers of requests
// whose TCP peer lies in one of trusted. IPv4-mapped IPv6 prefixes are
// taken as the IPv4 prefix they map, since peers are compared unmapped.
func New(trusted []netip.Prefix) *Resolver {
	r := &Resolver{}
	for _, p := range trusted {
		if !p.IsValid() {
			continue
		}
		a := p.Addr().WithZone("")
		bits := p.Bits()
		if a.Is4In6() {
			a, bits = a.Unmap(), max(0, bits-96)
		}
		r.trusted = append(r.trusted, netip.PrefixFrom(a, bits).Masked())
	}
	return r
}

// Trusted returns whether a is one of the trusted proxies.
func (r *Resolver) Trusted(a netip.Addr) bool {
	if r == nil {
		return false
	}
	a = norm(a)
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the address of req's client, never "": see the package
// documentation for the rules.
func (r *Resolver) Client(req *http.Request) string {
	peer, ok := parsePeer(req.RemoteAddr)
	if !ok {
		return Peer(req)
	}
	return r.Resolve(peer, req.Header.Values("X-Forwarded-For"), req.Header.Values("Forwarded")).String()
}

// Peer returns req's TCP peer without the port, never "". A RemoteAddr
// that is not host:port (a test, a Unix socket) is returned as it is.
func Peer(req *http.Request) string {
	if a, ok := parsePeer(req.RemoteAddr); ok {
		return a.String()
	}
	if host, _, err := net.SplitHostPort(req.RemoteAddr); err == nil && host != "" {
		return host
	}
	if req.RemoteAddr == "" {
		return "unknown"
	}
	return req.RemoteAddr
}

// Resolve returns the client of a request from peer carrying the
// X-Forwarded-For lines xff and the Forwarded lines fwd.
func (r *Resolver) Resolve(peer netip.Addr, xff, fwd []string) netip.Addr {
	peer = norm(peer)
	if !r.Trusted(peer) {
		return peer
	}
	hasXFF, hasFwd := present(xff), present(fwd)
	switch {
	case hasXFF && hasFwd:
		a, okA := r.walk(rightToLeft(xff, xffElements), parseNode)
		b, okB := r.walk(rightToLeft(fwd, forwardedElements), forwardedFor)
		if okA && okB && a == b {
			return a
		}
	case hasXFF:
		if a, ok := r.walk(rightToLeft(xff, xffElements), parseNode); ok {
			return a
		}
	case hasFwd:
		if a, ok := r.walk(rightToLeft(fwd, forwardedElements), forwardedFor); ok {
			return a
		}
	}
	return peer
}

// walk returns the first hop from the right that is not trusted, or the
// leftmost when all are; ok is false when there is no hop or one met
// before the answer is not an address.
func (r *Resolver) walk(hops iter.Seq[string], parse func(string) (netip.Addr, bool)) (client netip.Addr, ok bool) {
	for h := range hops {
		a, good := parse(h)
		if !good {
			return netip.Addr{}, false
		}
		client, ok = a, true
		if !r.Trusted(a) {
			return a, true
		}
	}
	return client, ok
}

// present reports whether a header has any non-blank line.
func present(lines []string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

// rightToLeft yields the non-empty elements of lines, last line first and
// each line's elements from the right (empty list elements are allowed by
// RFC 9110 §5.6.1 and skipped).
func rightToLeft(lines []string, elements func(line string, yield func(string) bool) bool) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := len(lines) - 1; i >= 0; i-- {
			if !elements(lines[i], yield) {
				return
			}
		}
	}
}

// xffElements yields line's comma-separated elements from the right;
// false when yield asked to stop.
func xffElements(line string, yield func(string) bool) bool {
	for line != "" {
		i := strings.LastIndexByte(line, ',')
		el := strings.TrimSpace(line[i+1:])
		if i < 0 {
			line = ""
		} else {
			line = line[:i]
		}
		if el != "" && !yield(el) {
			return false
		}
	}
	return true
}

// forwardedElements yields line's Forwarded elements from the right,
// splitting at commas outside quoted strings. It scans backwards so the
// elements trusted proxies appended are found intact whatever the client
// wrote before them (an unclosed quote included).
func forwardedElements(line string, yield func(string) bool) bool {
	end := len(line)
	quoted := false
	for i := len(line) - 1; i >= -1; i-- {
		if i >= 0 {
			switch line[i] {
			case '"':
				if !escaped(line, i) {
					quoted = !quoted
				}
				continue
			case ',':
				if quoted {
					continue
				}
			default:
				continue
			}
		}
		el := strings.TrimSpace(line[i+1 : end])
		end = max(i, 0)
		if el != "" && !yield(el) {
			return false
		}
	}
	return true
}

// escaped reports whether line[i] follows an odd run of backslashes, i.e.
// is a quoted-pair inside a quoted string.
func escaped(line string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && line[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// forwardedFor parses one Forwarded element (pairs joined by ';') and
// returns the address of its for= parameter; ok is false for a malformed
// element, one without exactly one for=, or a for= that is not an address.
func forwardedFor(el string) (netip.Addr, bool) {
	var value string
	found := false
	for el != "" {
		pair, rest, ok := cutUnquoted(el, ';')
		el = rest
		if !ok {
			el = ""
		}
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, v, ok := strings.Cut(pair, "=")
		if !ok {
			return netip.Addr{}, false
		}
		name = strings.TrimSpace(name)
		v, good := unquote(strings.TrimSpace(v))
		if !good || name == "" {
			return netip.Addr{}, false
		}
		if strings.EqualFold(name, "for") {
			if found {
				return netip.Addr{}, false
			}
			value, found = v, true
		}
	}
	if !found {
		return netip.Addr{}, false
	}
	return parseNode(value)
}

// cutUnquoted is strings.Cut at the first sep outside a quoted string.
func cutUnquoted(s string, sep byte) (before, after string, found bool) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// unquote returns a token as it is and a quoted string without its quotes
// and escapes; ok is false for an unclosed or stray quote.
func unquote(v string) (string, bool) {
	if !strings.HasPrefix(v, `"`) {
		return v, v != "" && !strings.ContainsAny(v, "\"\\")
	}
	if len(v) < 2 || v[len(v)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	in := v[1 : len(v)-1]
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case '\\':
			if i+1 >= len(in) {
				return "", false
			}
			i++
			c = in[i]
		case '"':
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// parseNode parses a hop: an IPv4 address, an IPv6 address bare or in
// brackets, either with a port (digits or an obfuscated "_port"). Not an
// address: "unknown", an obfuscated "_name", anything else.
func parseNode(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		if rest := s[end+1:]; rest != "" && !validPort(strings.TrimPrefix(rest, ":"), rest) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
		return norm(a), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return norm(a), true
	}
	host, port, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(port, ":") || !validPort(port, ":"+port) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// validPort accepts RFC 7239's node-port: 1-5 digits or "_" and
// [A-Za-z0-9._-]; withColon is the port as written, which must start
// with ':'.
func validPort(port, withColon string) bool {
	if !strings.HasPrefix(withColon, ":") || port == "" {
		return false
	}
	if port[0] == '_' {
		for _, c := range []byte(port[1:]) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return len(port) > 1
	}
	if len(port) > 5 {
		return false
	}
	for _, c := range []byte(port) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parsePeer(remote string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return norm(ap.Addr()), true
	}
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return norm(a), true
}

// norm drops the zone and unmaps IPv4-mapped IPv6, so one client has one
// form whichever way its address arrived.
func norm(a netip.Addr) netip.Addr {
	return a.WithZone("").Unmap()
}
