package cli

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

func pluginSignCmd(a *app) *cobra.Command {
	var (
		keys          []string
		name, version string
		abi           int
		pages, callMS uint32
		out           string
	)
	cmd := &cobra.Command{
		Use:   "sign FILE.wasm --key KEY --version V [--name N]",
		Short: "Write the signed manifest of a plugin (FILE.wasm.manifest.json)",
		Long: `Signs a manifest binding the plugin's name, version, ABI version, declared
limits, size and sha256 with one or more ed25519 private keys (from plugin
keygen). Give --key twice during a key rotation, so proxies that trust
either key accept the plugin.

--memory-pages and --call-timeout-ms declare what the plugin needs; a proxy
whose rule host grants less refuses it when syncing, rather than failing
requests later.`,
		Example: `  tokenomics plugin sign orion.wasm --key signing.key --name orion-guard --version 1.0.0`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			wasm, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("reading plugin: %w", err)
			}
			if name == "" {
				name = strings.TrimSuffix(filepath.Base(path), ".wasm")
			}
			var privs []ed25519.PrivateKey
			for _, k := range keys {
				priv, err := readSigningKey(a, k)
				if err != nil {
					return err
				}
				privs = append(privs, priv)
			}
			m := manifest.Manifest{Schema: manifest.SchemaVersion, Name: name, Version: version, ABI: abi,
				SHA256: manifest.Sum(wasm), Size: int64(len(wasm)),
				Limits:   manifest.Limits{MemoryPages: pages, CallTimeoutMS: callMS},
				SignedAt: time.Now().UTC().Truncate(time.Second)}
			env, err := manifest.Sign(m, privs...)
			if err != nil {
				return err
			}
			if out == "" {
				out = manifest.SidecarPath(path)
			}
			if err := writeNewFile(out, env, 0o644, true); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Signed %s\nManifest: %s\nsha256:   %s\nSigners:  %s\n", m.String(), out, m.SHA256,
				strings.Join(manifest.SignerIDs(env), ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&keys, "key", nil, "private key file (repeat to sign with several keys)")
	f.StringVar(&name, "name", "", "plugin name, as policies' wasm rules name it (default: the file name without .wasm)")
	f.StringVar(&version, "version", "", "semantic version, e.g. 1.0.0; proxies never go back to a lower one")
	f.IntVar(&abi, "abi", manifest.ABIVersion, "plugin ABI version")
	f.Uint32Var(&pages, "memory-pages", 0, "linear memory the plugin needs, in 64 KiB pages (0: the host default)")
	f.Uint32Var(&callMS, "call-timeout-ms", 0, "longest one check may take, in ms (0: the host default)")
	f.StringVarP(&out, "output", "o", "", "manifest file (default FILE.wasm.manifest.json)")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("version")
	return cmd
}

// readSigningKey loads a private key file and warns when others may read it.
func readSigningKey(a *app, path string) (ed25519.PrivateKey, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(a.stderr, "Warning: %s is readable by other users (mode %04o); chmod 600 it\n", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	priv, err := manifest.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", path, err)
	}
	return priv, nil
}
