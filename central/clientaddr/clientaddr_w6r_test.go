package clientaddr

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestW6rCounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"console", "console"},
		{"unknown", "unknown"},
	} {
		assert.Equal(t, tc.want, Counted(tc.in), tc.in)
	}
}

// TestW6rHeaderSmuggling: forwarding headers shaped to confuse the walk,
// from a trusted peer (10.0.0.5) and, for each, from an untrusted one,
// which must always be the client.
func TestW6rHeaderSmuggling(t *testing.T) {
	t.Parallel()
	manyHops := strings.Repeat("10.0.0.9, ", 5000) + "10.0.0.8"
	manyClientHops := strings.Repeat("192.0.2.1, ", 5000) + "198.51.100.7"
	long := strings.Repeat(" ", 60<<10) + "198.51.100.7"
	tests := []struct {
		name     string
		xff, fwd []string
		want     string
	}{
		{name: "tabs around hops", xff: []string{"192.0.2.1,\t198.51.100.7\t"}, want: "198.51.100.7"},
		{name: "tab inside a hop", xff: []string{"198.51.100\t.7"}, want: "10.0.0.5"},
		{name: "space inside a hop", xff: []string{"198.51.100 .7"}, want: "10.0.0.5"},
		{name: "thousands of trusted hops: the leftmost", xff: []string{manyHops}, want: "10.0.0.9"},
		{name: "thousands of client hops: the proxy's", xff: []string{manyClientHops}, want: "198.51.100.7"},
		{name: "a 60 KB header", xff: []string{long}, want: "198.51.100.7"},
		{name: "XFF IPv6 zone with port", xff: []string{"[fe80::1%eth0]:80"}, want: "fe80::1"},
		{name: "XFF IPv4-mapped to a trusted address is skipped", xff: []string{"198.51.100.7, ::ffff:10.0.0.7"}, want: "198.51.100.7"},
		{name: "Forwarded [::1]:80", fwd: []string{`for="[::1]:80"`}, want: "::1"},
		{name: "Forwarded zone", fwd: []string{`for="[fe80::1%25eth0]"`}, want: "fe80::1"},
		{name: "Forwarded FOR= and For=", fwd: []string{"FOR=192.0.2.1, For=198.51.100.7"}, want: "198.51.100.7"},
		{name: "Forwarded duplicate for of mixed case: the peer", fwd: []string{"for=198.51.100.7;For=192.0.2.1"}, want: "10.0.0.5"},
		{name: "Forwarded escaped quote in the value: not an address", fwd: []string{`for="198.51.100.7\"x"`}, want: "10.0.0.5"},
		{name: "Forwarded quoted-pairs spell the address", fwd: []string{`for="\1\9\8.51.100.7"`}, want: "198.51.100.7"},
		{name: "Forwarded client's escaped quote cannot open a string over the proxy's", fwd: []string{`for="x\", for=198.51.100.7`}, want: "198.51.100.7"},
		{name: "Forwarded client's trailing backslash", fwd: []string{`for=192.0.2.1\`, "for=198.51.100.7"}, want: "198.51.100.7"},
		{name: "Forwarded unquoted bare IPv6 is read leniently", fwd: []string{"for=2001:db8::1"}, want: "2001:db8::1"},
		{name: "Forwarded semicolon inside quotes", fwd: []string{`for="198.51.100.7;for=192.0.2.1"`}, want: "10.0.0.5"},
		{name: "headers agree in different spellings", xff: []string{"[2001:db8::7]:1"}, fwd: []string{`for="[2001:DB8:0::7]"`}, want: "2001:db8::7"},
		{name: "disagreeing headers: the peer", xff: []string{"198.51.100.7"}, fwd: []string{"for=198.51.100.8"}, want: "10.0.0.5"},
		{name: "NUL and CR bytes", xff: []string{"198.51.100.7\x00"}, want: "10.0.0.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, peer := range []string{"10.0.0.5:5000", "203.0.113.9:5000"} {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.RemoteAddr = peer
				for _, v := range tc.xff {
					req.Header.Add("X-Forwarded-For", v)
				}
				for _, v := range tc.fwd {
					req.Header.Add("Forwarded", v)
				}
				want := tc.want
				if peer != "10.0.0.5:5000" {
					want = "203.0.113.9"
				}
				got := trusted.Client(req)
				assert.Equal(t, want, got, "peer %s", peer)
				assert.NotEmpty(t, Counted(got))
			}
		})
	}
}
