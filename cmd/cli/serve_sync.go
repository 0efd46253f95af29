package cli

import (
	"cmp"
	"errors"
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
	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/rules"
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

// openProxyStore opens the proxy's token database. A synced copy that is
// damaged is moved aside and started afresh: the central server holds the
// truth, and the first sync rebuilds it (until then the proxy is not ready
// and refuses every token). A standalone proxy's file is the only copy, so
// it stops with a one-line error saying what to do.
func openProxyStore(cfg *config.Config, log hclog.Logger) (*store.DB, error) {
	db, err := openServerStore(cfg, log)
	if !errors.Is(err, store.ErrCorrupt) {
		return db, err
	}
	if cfg.Remote.URL == "" {
		return nil, fmt.Errorf("%w: restore storage.db_path from a backup (or move it aside to start with no tokens)", err)
	}
	path := cfg.Storage.DBPath
	aside := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405Z"))
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, fmt.Errorf("%w; moving it aside failed: %w", err, rerr)
	}
	log.Error("the synced token copy is damaged: moved it aside, rebuilding it from the central server",
		"db_path", path, "moved_to", aside, "error", err)
	return openServerStore(cfg, log)
}

// startSyncer wires and starts the proxy side of central sync.
func startSyncer(cfg *config.Config, db *store.DB, host *rules.Host, reg *metrics.Registry, log hclog.Logger) (*syncer.Syncer, error) {
	trusted, err := cfg.Plugins.PublicKeys()
	if err != nil {
		return nil, err
	}
	tr, err := remoteTransport(cfg, log)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: tr, Timeout: syncer.DefaultRequestTimeout}
	key := firstNonEmpty(os.Getenv(remoteKeyEnv), cfg.RemoteAPIKey())
	if key == "" {
		log.Warn("remote.url is set without an API key (remote.api_key, remote.api_key_env or the variable): the central server will refuse every pull",
			"variable", remoteKeyEnv)
	}
	var verifier *events.Verifier
	if w := cfg.Remote.Webhook; w.Enabled {
		verifier, err = events.NewVerifier(events.VerifierConfig{Secret: w.Secret, SigningKey: w.SigningKey, MaxSkew: w.MaxSkew.D(), Direction: events.DirPush})
		if err != nil {
			return nil, fmt.Errorf("remote.webhook: %w", err)
		}
	}
	fleetOpts, err := fleetOptions(cfg, host, key, hc)
	if err != nil {
		return nil, err
	}
	s, err := syncer.New(syncer.Options{
		Store:          db,
		Tokens:         tokenFeeds(cfg, key, hc),
		Plugins:        pluginFeeds(cfg, key, hc),
		TrustedKeys:    trusted,
		PluginDir:      cfg.Abs(cfg.Plugins.Dir),
		MaxMemoryPages: cmp.Or(cfg.Plugins.MemoryPages, hostMemoryPages),
		MaxCallMS:      cmp.Or(uint32(cfg.Plugins.CallTimeout.D()/time.Millisecond), hostCallMS),
		Interval:       time.Duration(cfg.Remote.Sync) * time.Second,
		Webhook:        verifier,
		Fleet:          fleetOpts,
		Metrics:        reg,
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

// fleetOptions wires the proxy's fleet reports: its instance id, host
// name and build, and the rule host's view of each plugin version.
func fleetOptions(cfg *config.Config, host *rules.Host, key string, hc *http.Client) (*syncer.FleetOptions, error) {
	inst, err := instanceID(cfg.Storage.DBPath)
	if err != nil {
		return nil, err
	}
	return &syncer.FleetOptions{
		Poster:   fleetPoster(cfg, key, hc),
		Instance: inst, Name: hostname(), Version: currentBuild().Version,
		Interval: cfg.Remote.FleetInterval.D(),
		Load: func(sha string) (loaded, ready bool, cause string) {
			for _, st := range host.Plugins() {
				if strings.EqualFold(st.SHA256, sha) {
					return true, st.Ready, st.Error
				}
			}
			return false, false, ""
		},
	}, nil
}

// remoteTransport checks remote.url's certificate: system roots plus
// remote.ca_file, or nothing with remote.insecure.
func remoteTransport(cfg *config.Config, log hclog.Logger) (*http.Transport, error) {
	o := events.TLSOptions{Insecure: cfg.Remote.Insecure}
	if cfg.Remote.CAFile != "" {
		o.CAFile = cfg.Abs(cfg.Remote.CAFile)
		if _, err := os.Stat(o.CAFile); err != nil {
			log.Warn("remote.ca_file cannot be read yet: pulls over https fail until it can", "ca_file", o.CAFile, "error", err)
		}
	}
	tr, err := events.NewTransport(o)
	if err != nil {
		return nil, fmt.Errorf("remote.ca_file: %w", err)
	}
	if o.Insecure && strings.HasPrefix(cfg.Remote.URL, "https:") {
		log.Warn("remote.insecure is true: the central server's certificate is not checked")
	}
	return tr, nil
}

// syncWiring fills the proxy options a syncer provides: the verified
// plugin resolver, the webhook route and readiness (with its reason).
// Without a syncer the local plugins.dir resolver stays (signature-checked
// when plugins.trusted_keys is set).
func syncWiring(cfg *config.Config, s *syncer.Syncer) (plugins func(string, string) ([]byte, error), routes map[string]fasthttp.RequestHandler, notReady func() string, err error) {
	if s == nil {
		plugins, err = localPluginSource(cfg)
		return plugins, nil, nil, err
	}
	if cfg.Remote.Webhook.Enabled {
		routes = map[string]fasthttp.RequestHandler{cfg.Remote.Webhook.Path: s.WebhookHandler()}
	}
	return s.Resolve, routes, s.NotReady, nil
}

// redactedURL hides a password in the URL, for logs.
func redactedURL(raw string) string {
	if strings.Contains(raw, ",") { // remote.url listing replicas
		parts := strings.Split(raw, ",")
		for i, p := range parts {
			parts[i] = redactedURL(strings.TrimSpace(p))
		}
		return strings.Join(parts, ",")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// perReplica is one client for remote.url or, when it lists several
// central replicas (comma-separated), one per replica combined by failover
// into a client that asks the one that last answered, then the others.
func perReplica[T any](cfg *config.Config, client func(url string) T, failover func(...T) T) T {
	urls := cfg.Remote.URLs()
	if len(urls) == 1 {
		return client(urls[0])
	}
	all := make([]T, len(urls))
	for i, u := range urls {
		all[i] = client(u)
	}
	return failover(all...)
}

// tokenFeeds is the token feed of the central server or its replicas.
func tokenFeeds(cfg *config.Config, key string, hc *http.Client) syncer.TokenFeed {
	return perReplica(cfg,
		func(u string) syncer.TokenFeed { return tokenapi.NewClient(u, key, hc) },
		func(f ...syncer.TokenFeed) syncer.TokenFeed { return syncer.NewFailoverTokens(f...) })
}

// fleetPoster sends the proxy's fleet reports to the central server or its
// replicas.
func fleetPoster(cfg *config.Config, key string, hc *http.Client) syncer.FleetPoster {
	return perReplica(cfg,
		func(u string) syncer.FleetPoster { return fleet.NewClient(u, key, hc) },
		func(p ...syncer.FleetPoster) syncer.FleetPoster { return syncer.NewFailoverFleet(p...) })
}

// pluginFeeds is the plugin registry of the central server or its replicas.
func pluginFeeds(cfg *config.Config, key string, hc *http.Client) syncer.PluginFeed {
	return perReplica(cfg,
		func(u string) syncer.PluginFeed { return manifest.NewClient(u, key, hc) },
		func(f ...syncer.PluginFeed) syncer.PluginFeed { return syncer.NewFailoverPlugins(f...) })
}
