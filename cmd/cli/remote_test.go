package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProxyDBPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "seed path", in: "./tokenomics.db", want: "./tokenomics.proxy.db"},
		{name: "absolute", in: "/var/lib/tokenomics/tokens.db", want: "/var/lib/tokenomics/tokens.proxy.db"},
		{name: "other extension", in: "data/t.bolt", want: "data/t.proxy.bolt"},
		{name: "no extension", in: "tokens", want: "tokens.proxy"},
		{name: "dot in directory", in: "./v1.2/tokens", want: "./v1.2/tokens.proxy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, ProxyDBPath(tc.in))
		})
	}
}

func TestRemoteKey(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("from-file\n"), 0o600))
	tests := []struct {
		name    string
		ro      remoteOptions
		environ []string
		want    string
		wantErr bool
	}{
		{name: "flag wins", ro: remoteOptions{apiKey: "flag", apiKeyFile: keyFile}, environ: []string{remoteKeyEnv + "=env"}, want: "flag"},
		{name: "file before env", ro: remoteOptions{apiKeyFile: keyFile}, environ: []string{remoteKeyEnv + "=env"}, want: "from-file"},
		{name: "env", environ: []string{remoteKeyEnv + "=env"}, want: "env"},
		{name: "SEED with the variable unset: empty flag", ro: remoteOptions{apiKey: ""}, environ: []string{}, wantErr: true},
		{name: "explicitly open", ro: remoteOptions{noAuth: true}, environ: []string{}, want: ""},
		{name: "open contradicts a key", ro: remoteOptions{noAuth: true, apiKey: "k"}, environ: []string{}, wantErr: true},
		{name: "missing file", ro: remoteOptions{apiKeyFile: keyFile + ".nope"}, environ: []string{}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := &app{environ: tc.environ}
			got, err := tc.ro.key(a)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
