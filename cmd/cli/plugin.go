package cli

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
)

func init() { register(pluginCmd) }

func pluginCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Build, test, sign and publish WASM content-rule plugins",
		Long: `Tools for custom content-rule plugins (policy rules of type "wasm").

A plugin author builds and tests a plugin; the operator signs it with an
ed25519 key and pushes it to the central server, which hands it to every
proxy. A proxy loads only plugins whose signed manifest verifies against one
of its plugins.trusted_keys, and never an older version than it already has.

  tokenomics plugin new acme-words --sdk ~/src/tokenomics   # a ready module
  tokenomics plugin keygen --out signing.key
  tokenomics plugin build ./examples/custom-plugin -o orion.wasm
  tokenomics plugin test orion.wasm --cases ./examples/custom-plugin/cases.yaml
  tokenomics plugin sign orion.wasm --key signing.key --name orion-guard --version 1.0.0
  tokenomics plugin push orion.wasm --remote http://central:9090
  tokenomics plugin list --remote http://central:9090
  tokenomics plugin status --remote http://central:9090

See docs/PLUGINS.md for the SDK and the ABI.`,
	}
	cmd.AddCommand(pluginKeygenCmd(a), pluginBuildCmd(a), pluginTestCmd(a), pluginSignCmd(a),
		pluginPushCmd(a), pluginListCmd(a), pluginDeleteCmd(a), pluginStatusCmd(a), pluginNewCmd(a))
	return cmd
}

// registryFlags select the central server of push, list and delete.
type registryFlags struct {
	url    string
	apiKey string
	output string
}

func (rf *registryFlags) add(cmd *cobra.Command, withOutput bool) {
	f := cmd.Flags()
	f.StringVar(&rf.url, "remote", "", "central server URL (default: remote.url from config)")
	f.StringVar(&rf.apiKey, "api-key", "", "central server API key; visible in ps, prefer $"+remoteKeyEnv+" or remote.api_key_env")
	if withOutput {
		f.StringVarP(&rf.output, "output", "o", "text", "text or json")
	}
}

// registry returns a client for the central plugin registry.
func (a *app) registry(cmd *cobra.Command, rf *registryFlags) (*manifest.Client, error) {
	url, key, hc, err := a.central(cmd, rf)
	if err != nil {
		return nil, err
	}
	return manifest.NewClient(url, key, hc), nil
}

// central resolves the central server's URL, API key and HTTP client from
// the flags, the environment and the config.
func (a *app) central(cmd *cobra.Command, rf *registryFlags) (url, key string, hc *http.Client, err error) {
	if rf.output != "" && rf.output != "text" && rf.output != "json" {
		return "", "", nil, fmt.Errorf("--output: must be text or json, not %q", rf.output)
	}
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return "", "", nil, err
	}
	url = firstNonEmpty(rf.url, cfg.Remote.FirstURL())
	if url == "" {
		return "", "", nil, fmt.Errorf("no central server: give --remote URL or set remote.url in %s", a.configPath)
	}
	key = firstNonEmpty(rf.apiKey, a.getenv(remoteKeyEnv), cfg.RemoteAPIKey())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Remote.Insecure} //nolint:gosec // remote.insecure is explicit
	return url, key, &http.Client{Transport: tr, Timeout: 5 * time.Minute}, nil
}

// writeNewFile writes data to path with mode perm, refusing to replace an
// existing file unless force.
func writeNewFile(path string, data []byte, perm os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if err != nil {
		if os.IsExist(err) {
			return fmt.Errorf("%s exists; pass --force to replace it", path)
		}
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil { // O_TRUNC keeps an old file's mode
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
