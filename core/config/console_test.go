package config

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConsoleTrustedProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []string
		want    []string // prefixes when valid
		bad     string   // the field of the problem, when not
	}{
		{name: "default empty", want: []string{}},
		{name: "CIDRs and addresses", entries: []string{"10.0.0.0/8", "127.0.0.1", " 192.168.1.0/24 ", "fd00::/8", "::1"},
			want: []string{"10.0.0.0/8", "127.0.0.1/32", "192.168.1.0/24", "fd00::/8", "::1/128"}},
		{name: "mapped address unmapped", entries: []string{"::ffff:10.0.0.1"}, want: []string{"10.0.0.1/32"}},
		{name: "not an address", entries: []string{"10.0.0.0/8", "lb.internal"}, bad: "console.trusted_proxies[1]"},
		{name: "bad prefix length", entries: []string{"10.0.0.0/33"}, bad: "console.trusted_proxies[0]"},
		{name: "host bits set", entries: []string{"10.0.0.1/8"}, bad: "console.trusted_proxies[0]"},
		{name: "empty entry", entries: []string{""}, bad: "console.trusted_proxies[0]"},
		{name: "zone", entries: []string{"fe80::1%eth0"}, bad: "console.trusted_proxies[0]"},
		{name: "mapped prefix", entries: []string{"::ffff:10.0.0.0/104"}, bad: "console.trusted_proxies[0]"},
		{name: "everyone IPv4", entries: []string{"0.0.0.0/0"}, bad: "console.trusted_proxies[0]"},
		{name: "everyone IPv6", entries: []string{"::/0"}, bad: "console.trusted_proxies[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			c.Console.TrustedProxies = tc.entries
			err := c.Validate()
			if tc.bad != "" {
				fe := findField(t, err, tc.bad)
				assert.Contains(t, fe.Msg, tc.entries[len(tc.entries)-1])
				return
			}
			require.NoError(t, err)
			got := []string{}
			for _, p := range c.Console.TrustedProxyPrefixes() {
				got = append(got, p.String())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestConsoleTrustedProxiesFromFile reads the key from YAML and from the
// TOKENOMICS_CONSOLE_TRUSTED_PROXIES override, and reports a bad CIDR with
// the file's line.
func TestConsoleTrustedProxiesFromFile(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "console:\n  trusted_proxies: [\"10.0.0.0/8\", \"127.0.0.1/32\"]\n", "")
	c, err := Load(path, LoadOptions{Environ: noEnv})
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}, c.Console.TrustedProxyPrefixes())

	c, err = Load(path, LoadOptions{Environ: []string{"TOKENOMICS_CONSOLE_TRUSTED_PROXIES=192.0.2.1"}})
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}, c.Console.TrustedProxyPrefixes())

	path = writeConfig(t, "console:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.0/40\n", "")
	_, err = Load(path, LoadOptions{Environ: noEnv})
	fe := findField(t, err, "console.trusted_proxies[1]")
	assert.Contains(t, fe.Error(), "10.0.0.0/40")
	assert.Contains(t, fe.Error(), "not a valid CIDR")
}
