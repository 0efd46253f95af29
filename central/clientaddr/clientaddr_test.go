package clientaddr

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var trusted = New([]netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.1/32"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
})

func TestClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		r      *Resolver
		remote string
		xff    []string
		fwd    []string
		want   string
	}{
		{name: "no proxies: the peer", r: nil, remote: "10.1.1.1:5000", xff: []string{"198.51.100.7"}, want: "10.1.1.1"},
		{name: "empty list: headers ignored", r: New(nil), remote: "127.0.0.1:5000", xff: []string{"198.51.100.7"}, fwd: []string{"for=198.51.100.7"}, want: "127.0.0.1"},
		{name: "untrusted peer sends XFF", r: trusted, remote: "203.0.113.9:5000", xff: []string{"198.51.100.7"}, want: "203.0.113.9"},
		{name: "untrusted peer sends Forwarded", r: trusted, remote: "203.0.113.9:5000", fwd: []string{"for=198.51.100.7"}, want: "203.0.113.9"},
		{name: "untrusted peer sends garbage", r: trusted, remote: "203.0.113.9:5000", xff: []string{"\x00;;,,"}, fwd: []string{`for="`}, want: "203.0.113.9"},
		{name: "untrusted peer claims a trusted address", r: trusted, remote: "203.0.113.9:5000", xff: []string{"10.0.0.1"}, want: "203.0.113.9"},
		{name: "trusted peer without headers", r: trusted, remote: "10.0.0.5:5000", want: "10.0.0.5"},
		{name: "trusted peer, one hop", r: trusted, remote: "10.0.0.5:5000", xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
		{name: "client-written hops left of the real one", r: trusted, remote: "10.0.0.5:5000", xff: []string{"192.0.2.66, 192.0.2.67, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "chain of trusted proxies", r: trusted, remote: "10.0.0.5:5000", xff: []string{"192.0.2.66, 198.51.100.7, 10.9.9.9, 127.0.0.1"}, want: "198.51.100.7"},
		{name: "several XFF lines are one list", r: trusted, remote: "10.0.0.5:5000", xff: []string{"192.0.2.66", "198.51.100.7, 10.9.9.9"}, want: "198.51.100.7"},
		{name: "spoofed XFF line before the proxy's", r: trusted, remote: "10.0.0.5:5000", xff: []string{"10.0.0.1, 127.0.0.1", "198.51.100.7"}, want: "198.51.100.7"},
		{name: "every hop trusted: the leftmost", r: trusted, remote: "10.0.0.5:5000", xff: []string{"10.1.2.3, 10.0.0.9"}, want: "10.1.2.3"},
		{name: "empty elements skipped", r: trusted, remote: "10.0.0.5:5000", xff: []string{" , 198.51.100.7 ,, "}, want: "198.51.100.7"},
		{name: "blank XFF line is absent", r: trusted, remote: "10.0.0.5:5000", xff: []string{"  "}, want: "10.0.0.5"},
		{name: "XFF with a port", r: trusted, remote: "10.0.0.5:5000", xff: []string{"198.51.100.7:4711"}, want: "198.51.100.7"},
		{name: "XFF IPv6 bare", r: trusted, remote: "10.0.0.5:5000", xff: []string{"2001:db8:1:2::17"}, want: "2001:db8:1:2::17"},
		{name: "XFF IPv6 bracketed with port", r: trusted, remote: "10.0.0.5:5000", xff: []string{"[2001:db8:1:2::17]:443"}, want: "2001:db8:1:2::17"},
		{name: "XFF IPv4-mapped IPv6 unmapped", r: trusted, remote: "10.0.0.5:5000", xff: []string{"::ffff:198.51.100.7"}, want: "198.51.100.7"},
		{name: "XFF zone dropped", r: trusted, remote: "10.0.0.5:5000", xff: []string{"fe80::1%eth0"}, want: "fe80::1"},
		{name: "garbage at the right: the peer", r: trusted, remote: "10.0.0.5:5000", xff: []string{"198.51.100.7, not-an-address"}, want: "10.0.0.5"},
		{name: "garbage left of the client is never read", r: trusted, remote: "10.0.0.5:5000", xff: []string{"<script>, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "garbage behind trusted hops: the peer", r: trusted, remote: "10.0.0.5:5000", xff: []string{"junk, 10.0.0.7"}, want: "10.0.0.5"},
		{name: "XFF unknown: the peer", r: trusted, remote: "10.0.0.5:5000", xff: []string{"unknown"}, want: "10.0.0.5"},
		{name: "XFF bad port", r: trusted, remote: "10.0.0.5:5000", xff: []string{"198.51.100.7:http"}, want: "10.0.0.5"},
		{name: "XFF IPv6 in brackets holding IPv4", r: trusted, remote: "10.0.0.5:5000", xff: []string{"[198.51.100.7]"}, want: "10.0.0.5"},
		{name: "trusted IPv6 peer", r: trusted, remote: "[2001:db8:ffff::1]:443", xff: []string{"2001:db8:1::5"}, want: "2001:db8:1::5"},
		{name: "trusted IPv4-mapped peer", r: trusted, remote: "[::ffff:10.0.0.5]:443", xff: []string{"198.51.100.7"}, want: "198.51.100.7"},

		{name: "Forwarded for=", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"for=198.51.100.7;proto=https;by=10.0.0.5"}, want: "198.51.100.7"},
		{name: "Forwarded parameter names are case-insensitive", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"Proto=https;FOR=198.51.100.7"}, want: "198.51.100.7"},
		{name: "Forwarded IPv6 quoted with brackets and port", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::17"},
		{name: "Forwarded IPv6 with obfuscated port", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for="[2001:db8:cafe::17]:_p1"`}, want: "2001:db8:cafe::17"},
		{name: "Forwarded IPv4 quoted with port", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for="198.51.100.7:80"`}, want: "198.51.100.7"},
		{name: "Forwarded chain", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for=192.0.2.43, for="[2001:db8:cafe::17]", for=10.3.3.3`}, want: "2001:db8:cafe::17"},
		{name: "Forwarded several lines", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"for=192.0.2.43", "for=198.51.100.7", "for=10.3.3.3"}, want: "198.51.100.7"},
		{name: "Forwarded quoted comma stays in its element", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for=192.0.2.1;ext="a,b", for=198.51.100.7`}, want: "198.51.100.7"},
		{name: "Forwarded escaped quote in the proxy's element", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for=192.0.2.1, for=198.51.100.7;ext="x\",y"`}, want: "198.51.100.7"},
		{name: "Forwarded client's unclosed quote cannot swallow the proxy's element", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for="192.0.2.1, for=198.51.100.7`}, want: "198.51.100.7"},
		{name: "Forwarded obfuscated identifier: the peer", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"for=192.0.2.1, for=_hidden"}, want: "10.0.0.5"},
		{name: "Forwarded unknown: the peer", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"for=192.0.2.1, for=unknown"}, want: "10.0.0.5"},
		{name: "Forwarded element without for: the peer", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"for=192.0.2.1, proto=https"}, want: "10.0.0.5"},
		{name: "Forwarded two for= in one element: the peer", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"for=198.51.100.7;for=192.0.2.1"}, want: "10.0.0.5"},
		{name: "Forwarded unquoted IPv6 with port: the peer", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"for=[2001:db8::1]:80:80"}, want: "10.0.0.5"},
		{name: "Forwarded pair without =: the peer", r: trusted, remote: "10.0.0.5:5000", fwd: []string{"for"}, want: "10.0.0.5"},
		{name: "Forwarded unclosed quote from the proxy: the peer", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for="198.51.100.7`}, want: "10.0.0.5"},
		{name: "Forwarded trusted hops then obfuscated: the peer", r: trusted, remote: "10.0.0.5:5000", fwd: []string{`for=_abc, for=10.1.1.1`}, want: "10.0.0.5"},

		{name: "both headers agree", r: trusted, remote: "10.0.0.5:5000", xff: []string{"198.51.100.7"}, fwd: []string{"for=198.51.100.7"}, want: "198.51.100.7"},
		{name: "both headers disagree: the peer", r: trusted, remote: "10.0.0.5:5000", xff: []string{"198.51.100.7"}, fwd: []string{"for=192.0.2.66"}, want: "10.0.0.5"},
		{name: "client-written Forwarded beside the proxy's XFF: the peer", r: trusted, remote: "10.0.0.5:5000", xff: []string{"198.51.100.7"}, fwd: []string{"for=10.0.0.1"}, want: "10.0.0.5"},
		{name: "proxy hides the client in Forwarded, client writes XFF: the peer", r: trusted, remote: "10.0.0.5:5000", xff: []string{"192.0.2.66"}, fwd: []string{"for=_hidden"}, want: "10.0.0.5"},

		{name: "RemoteAddr without port", r: trusted, remote: "198.51.100.7", want: "198.51.100.7"},
		{name: "RemoteAddr not an address", r: trusted, remote: "@", xff: []string{"198.51.100.7"}, want: "@"},
		{name: "RemoteAddr empty", r: trusted, remote: "", xff: []string{"198.51.100.7"}, want: "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.fwd {
				req.Header.Add("Forwarded", v)
			}
			assert.Equal(t, tc.want, tc.r.Client(req))
		})
	}
}

func TestNewNormalizesPrefixes(t *testing.T) {
	t.Parallel()
	r := New([]netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104"), netip.PrefixFrom(netip.MustParseAddr("fe80::1%eth0"), 128), {}})
	require.Len(t, r.trusted, 2)
	assert.True(t, r.Trusted(netip.MustParseAddr("10.200.0.1")))
	assert.True(t, r.Trusted(netip.MustParseAddr("::ffff:10.200.0.1")))
	assert.True(t, r.Trusted(netip.MustParseAddr("fe80::1%eth1")))
	assert.False(t, r.Trusted(netip.MustParseAddr("11.0.0.1")))
	var none *Resolver
	assert.False(t, none.Trusted(netip.MustParseAddr("127.0.0.1")))
}

func TestPeer(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, remote, want string }{
		{name: "IPv4", remote: "192.0.2.1:80", want: "192.0.2.1"},
		{name: "IPv6", remote: "[2001:db8::1]:80", want: "2001:db8::1"},
		{name: "zone", remote: "[fe80::1%lo]:80", want: "fe80::1"},
		{name: "host name", remote: "localhost:80", want: "localhost"},
		{name: "empty", remote: "", want: "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tc.remote
			assert.Equal(t, tc.want, Peer(req))
		})
	}
}
