package cli

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/syncer"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// firstSyncWait bounds how long serve waits for the central server before
// it starts with its local copy.
const firstSyncWait = 5 * time.Second

// Rule host limits a synced plugin may ask for: rules.Config's defaults,
// which serve uses.
const (
	hostMemoryPages = 1024
	hostCallMS      = 100
)

// ProxyDBPath is where a proxy with remote.url keeps its synced copy of the
// tokens: storage.db_path with ".proxy" before the extension
// (./tokenomics.db → ./tokenomics.proxy.db). SEED.txt runs the central
// server and the proxy in one directory with the same db_path; their files
// must not collide, and a mirror must never be written by local token
// commands.
func ProxyDBPath(dbPath string) string {
	ext := filepath.Ext(dbPath)
	if ext == "" {
		return dbPath + ".proxy"
	}
	return strings.TrimSuffix(dbPath, ext) + ".proxy" + ext
}

// withProxyStore returns cfg unchanged for a standalone proxy, or a copy
// whose storage.db_path is the synced copy's file.
func withProxyStore(cfg *config.Config) *config.Config {
	if cfg.Remote.URL == "" {
		return cfg
	}
	cp := *cfg
	cp.Storage.DBPath = ProxyDBPath(cfg.Storage.DBPath)
	return &cp
}

// startSyncer wires and starts the proxy side of central sync.
func startSyncer(cfg *config.Config, db *store.DB, log hclog.Logger) (*syncer.Syncer, error) {
	trusted, err := cfg.Plugins.PublicKeys()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.Remote.Insecure, //nolint:gosec // remote.insecure is the operator's explicit choice
	}
	hc := &http.Client{Transport: tr, Timeout: syncer.DefaultRequestTimeout}
	key := firstNonEmpty(os.Getenv(remoteKeyEnv), cfg.RemoteAPIKey())
	if key == "" {
		log.Warn("remote.url is set without an API key (remote.api_key, remote.api_key_env or the variable): the central server will refuse every pull",
			"variable", remoteKeyEnv)
	}
	var verifier *events.Verifier
	if w := cfg.Remote.Webhook; w.Enabled {
		verifier, err = events.NewVerifier(events.VerifierConfig{Secret: w.Secret, SigningKey: w.SigningKey, MaxSkew: w.MaxSkew.D()})
		if err != nil {
			return nil, fmt.Errorf("remote.webhook: %w", err)
		}
	}
	s, err := syncer.New(syncer.Options{
		Store:          db,
		Tokens:         tokenapi.NewClient(cfg.Remote.URL, key, hc),
		Plugins:        manifest.NewClient(cfg.Remote.URL, key, hc),
		TrustedKeys:    trusted,
		PluginDir:      cfg.Abs(cfg.Plugins.Dir),
		MaxMemoryPages: cmp.Or(cfg.Plugins.MemoryPages, hostMemoryPages),
		MaxCallMS:      cmp.Or(uint32(cfg.Plugins.CallTimeout.D()/time.Millisecond), hostCallMS),
		Interval:       time.Duration(cfg.Remote.Sync) * time.Second,
		Webhook:        verifier,
		Logger:         log,
	})
	if err != nil {
		return nil, fmt.Errorf("starting central sync: %w", err)
	}
	log.Info("syncing with the central server", "url", redactedURL(cfg.Remote.URL), "db_path", db.Path(),
		"poll", (time.Duration(cfg.Remote.Sync) * time.Second).String(), "webhook", cfg.Remote.Webhook.Enabled,
		"trusted_plugin_keys", len(trusted))
	s.Start(firstSyncWait)
	return s, nil
}

// syncWiring fills the proxy options a syncer provides: the verified
// plugin resolver, the webhook route and readiness. Without a syncer the
// local plugins.dir resolver stays.
func syncWiring(cfg *config.Config, s *syncer.Syncer) (plugins func(string, string) ([]byte, error), routes map[string]fasthttp.RequestHandler, ready func() bool, err error) {
	if s == nil {
		plugins, err = localPluginSource(cfg)
		return plugins, nil, nil, err
	}
	if cfg.Remote.Webhook.Enabled {
		routes = map[string]fasthttp.RequestHandler{cfg.Remote.Webhook.Path: s.WebhookHandler()}
	}
	return s.Resolve, routes, s.Ready, nil
}

// redactedURL hides a password in the URL, for logs.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
