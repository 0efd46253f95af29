package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

func init() { register(tokenCmd) }

// remoteFlags select the online way: a central server's REST API.
type remoteFlags struct {
	url    string
	apiKey string
	output string
}

func tokenCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list, inspect, update and revoke client tokens",
		Long: `Manage tkn_ tokens. Offline, the commands work on the bbolt database named by
storage.db_path. While a server (serve or remote) holds that database, they
reach it through its local admin endpoint, so the change applies at once.
With --remote (or remote.url in config.yaml) they go to a central server.`,
	}
	rf := &remoteFlags{}
	pf := cmd.PersistentFlags()
	pf.StringVar(&rf.url, "remote", "", "central server URL (default: remote.url from config)")
	pf.StringVar(&rf.apiKey, "api-key", "", "central server API key; visible in ps, prefer $TOKENOMICS_REMOTE_KEY or remote.api_key_env")
	pf.StringVarP(&rf.output, "output", "o", "text", "text or json")
	cmd.AddCommand(tokenCreateCmd(a, rf), tokenListCmd(a, rf), tokenGetCmd(a, rf),
		tokenUpdateCmd(a, rf), tokenDeleteCmd(a, rf))
	return cmd
}

// manager picks how to reach the token store: central server, a running local
// server's admin endpoint, or the database file itself. close releases it.
func (a *app) manager(cmd *cobra.Command, rf *remoteFlags) (m tokenapi.Manager, close func(), err error) {
	if rf.output != "text" && rf.output != "json" {
		return nil, nil, fmt.Errorf("--output: must be text or json, not %q", rf.output)
	}
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	if url := firstNonEmpty(rf.url, cfg.Remote.FirstURL()); url != "" {
		key := firstNonEmpty(rf.apiKey, a.getenv("TOKENOMICS_REMOTE_KEY"), cfg.RemoteAPIKey())
		return tokenapi.NewClient(url, key, nil), func() {}, nil
	}
	return a.localManager(cfg)
}

func (a *app) localManager(cfg *config.Config) (tokenapi.Manager, func(), error) {
	dbPath := cfg.Storage.DBPath
	// A running server announces itself: go through it straight away
	// rather than waiting for the database lock to time out.
	if d, err := tokenapi.ReadDiscovery(dbPath); err == nil {
		return tokenapi.NewClient("http://"+d.Addr, d.Secret, nil).WithName("local server"), func() {}, nil
	}
	db, err := openStore(cfg, a.cliLogger())
	if errors.Is(err, store.ErrLocked) {
		d, derr := tokenapi.ReadDiscovery(dbPath)
		if derr != nil {
			return nil, nil, fmt.Errorf("%w; no running tokenomics server announced a local admin endpoint in %s (%v): stop the process holding it, or manage tokens online with --remote URL",
				err, tokenapi.DiscoveryPath(dbPath), derr)
		}
		return tokenapi.NewClient("http://"+d.Addr, d.Secret, nil).WithName("local server"), func() {}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	svc := tokenapi.NewService(db, policyValidator(cfg), policy.MergePatch, a.cliLogger())
	return svc, func() { _ = db.Close() }, nil
}

// openStore opens the token database with the keys the config names. An
// encryption key variable that the config names but the environment leaves
// empty is a loud warning, not an error: SEED.txt's steps run with only the
// hash key set. A database that was written encrypted still refuses to open
// without its key (store.ErrDecrypt), so nothing is ever read in the clear.
func openStore(cfg *config.Config, log hclog.Logger) (*store.DB, error) {
	return openStoreWith(cfg, log, nil)
}

// openStoreWith is openStore with options tweaked by mutate.
func openStoreWith(cfg *config.Config, log hclog.Logger, mutate func(*store.Options)) (*store.DB, error) {
	hashKey, enc, err := storeKeys(cfg, log)
	if err != nil {
		return nil, err
	}
	opts := store.Options{HashKey: hashKey, Logger: log}
	if enc != nil {
		opts.EncryptionKey, opts.EncryptionPassphrase = enc.Raw, enc.Passphrase
	}
	if mutate != nil {
		mutate(&opts)
	}
	return store.Open(cfg.Storage.DBPath, opts)
}

// storeKeys reads the hash key and the optional encryption secret every
// token store (bbolt or PostgreSQL) is opened with.
func storeKeys(cfg *config.Config, log hclog.Logger) ([]byte, *config.KeySecret, error) {
	hashKey, err := cfg.HashKey()
	if err != nil {
		return nil, nil, err
	}
	enc, err := cfg.EncryptionSecret()
	if errors.Is(err, config.ErrSecretNotSet) {
		log.Warn("policies are stored unencrypted: the encryption key variable is not set", "variable", cfg.Security.EncryptionKeyEnv)
		enc, err = nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return hashKey, enc, nil
}

// policyValidator checks a policy strictly, including the memory paths the
// operator allows, and stores it compacted as written.
func policyValidator(cfg *config.Config) tokenapi.Validator {
	upstreams := cfg.AllowedUpstreams()
	return func(raw json.RawMessage) (json.RawMessage, error) {
		p, err := policy.Parse(raw)
		if err != nil {
			return nil, err
		}
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("finding working directory: %w", err)
		}
		if err := p.CheckMemoryPaths(cfg.Memory.AllowedDirs, wd); err != nil {
			return nil, err
		}
		if err := checkUpstreams(p, upstreams); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("compacting policy: %w", err)
		}
		return buf.Bytes(), nil
	}
}

// checkUpstreams refuses a policy that sends requests (and with them a
// provider key) to a URL outside the configured upstreams.
func checkUpstreams(p *policy.Policy, allowed *config.Upstreams) error {
	var errs []error
	if p.UpstreamURL != "" {
		errs = append(errs, allowed.Check("upstream_url", p.UpstreamURL))
	}
	for _, g := range p.Providers {
		for i, e := range g.Entries {
			if e.UpstreamURL != "" {
				errs = append(errs, allowed.Check(fmt.Sprintf("providers.%s[%d].upstream_url", g.Name, i), e.UpstreamURL))
			}
		}
	}
	return errors.Join(errs...)
}

// readPolicyArg accepts inline JSON or @file.json.
func readPolicyArg(s string) (json.RawMessage, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("--policy: empty")
	}
	if strings.HasPrefix(s, "@") {
		b, err := os.ReadFile(s[1:])
		if err != nil {
			return nil, fmt.Errorf("--policy: reading %s: %w", s[1:], err)
		}
		return b, nil
	}
	return json.RawMessage(s), nil
}

func (a *app) getenv(k string) string {
	if a.environ == nil {
		return os.Getenv(k)
	}
	for _, kv := range a.environ {
		if name, v, ok := strings.Cut(kv, "="); ok && name == k {
			return v
		}
	}
	return ""
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
