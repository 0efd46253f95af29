package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
	"github.com/tokenomics-dev/tokenomics/central/console"
	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

func init() { register(remoteCmd) }

// remoteKeyEnv holds the central server's API key, for remote and for the
// clients that talk to it.
const remoteKeyEnv = "TOKENOMICS_REMOTE_KEY"

type remoteOptions struct {
	addr       string
	apiKey     string
	apiKeyFile string
	noAuth     bool
	readyFile  string
	// allowUnsigned lets a central server without plugins.trusted_keys
	// accept self-signed plugin uploads (development only).
	allowUnsigned bool
}

func remoteCmd(a *app) *cobra.Command {
	ro := &remoteOptions{}
	cmd := &cobra.Command{
		Use:   "remote",
		Short: "Run the central server (control plane): tokens, plugins, push to proxies",
		Long: `Runs the central server. It holds the token database named by storage.db_path
and a plugin registry in the same file, serves them under /api/v1/tokens and
/api/v1/plugins behind one API key, and pushes token.* and plugin.* events
to every events.webhooks target so proxies pull the change at once.

The API key comes from --api-key, else --api-key-file, else $TOKENOMICS_REMOTE_KEY.
Prefer the file or the variable: a flag's value is visible to every local user
(ps, /proc). Clients send it as "Authorization: Bearer <key>". Failed
authentications are logged at WARN with the source address, and a source that
keeps failing is answered 429 for a while (docs/SECURITY.md).

The operators' console is served under /ui/ on the same address (docs/CONSOLE.md):
sign in with the API key, or with the key in console.key_env.

Token commands run on this machine with the same config (token list, create,
update, delete) reach this process through its loopback admin endpoint, so
their changes are pushed like those made over the REST API.`,
		Example: `  TOKENOMICS_REMOTE_KEY=$(cat /etc/tokenomics/remote.key) tokenomics remote --addr :9090
  tokenomics remote --api-key-file /etc/tokenomics/remote.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			key, err := ro.key(a)
			if err != nil {
				return err
			}
			return runRemote(cmd.Context(), a, cfg, ro, key, a.logger(cfg))
		},
	}
	f := cmd.Flags()
	f.StringVar(&ro.addr, "addr", "127.0.0.1:9090", "listen address of the REST API (\":9090\" for all interfaces)")
	f.StringVar(&ro.apiKey, "api-key", "", "API key clients must present; visible in ps, prefer --api-key-file or $"+remoteKeyEnv)
	f.StringVar(&ro.apiKeyFile, "api-key-file", "", "file holding the API key")
	f.BoolVar(&ro.noAuth, "insecure-no-auth", false, "serve the API without an API key (loopback demos only)")
	f.BoolVar(&ro.allowUnsigned, "allow-unsigned-plugins", false, "without plugins.trusted_keys, accept plugins signed by any key (development only)")
	f.StringVar(&ro.readyFile, "ready-file", "", "once listening, write the bound addresses here as KEY=value lines (API_ADDR, ADMIN_ADDR, PID)")
	return cmd
}

// key resolves the API key: flag, then file, then environment.
func (ro *remoteOptions) key(a *app) (string, error) {
	key := ro.apiKey
	if key == "" && ro.apiKeyFile != "" {
		b, err := os.ReadFile(ro.apiKeyFile)
		if err != nil {
			return "", fmt.Errorf("--api-key-file: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	if key == "" {
		key = a.getenv(remoteKeyEnv)
	}
	switch {
	case key != "" && ro.noAuth:
		return "", errors.New("--insecure-no-auth contradicts the API key that was given")
	case key == "" && !ro.noAuth:
		return "", fmt.Errorf("no API key: give --api-key, --api-key-file or $%s (or --insecure-no-auth for a loopback demo)", remoteKeyEnv)
	}
	return key, nil
}

func runRemote(ctx context.Context, a *app, cfg *config.Config, ro *remoteOptions, key string, log hclog.Logger) error {
	began := time.Now()
	var c components
	defer c.close(context.Background(), log)
	defer removeReadyFile(ro.readyFile)
	log.Info("starting central server", "config", cfg.Path, "storage", cfg.Storage.Backend, "db_path", cfg.Storage.DBPath)
	if ro.noAuth {
		log.Warn("the central API runs WITHOUT authentication (--insecure-no-auth): anyone who reaches it can read and change every token")
	} else if len(key) < 16 {
		log.Warn("the API key is shorter than 16 characters; use a long random key")
	}
	trusted, err := cfg.Plugins.PublicKeys()
	if err != nil {
		return err
	}

	cs, err := openCentralStore(ctx, cfg, log)
	if errors.Is(err, store.ErrCorrupt) {
		return fmt.Errorf("%w: restore storage.db_path from a backup (or move it aside to start with no tokens)", err)
	}
	if err != nil {
		return err
	}
	c.add(func(context.Context) error { return cs.Close() })
	db := cs.backend

	disp, err := newDispatcher(cfg, cs.bolt, events.DirPush, log)
	if err != nil {
		return err
	}
	if disp != nil {
		c.add(disp.Close)
	}
	var (
		notifier *events.Notifier
		notices  central.Noticer
		leases   *central.LeasePusher
		stats    func() []events.TargetStats
	)
	switch {
	case len(cfg.Events.Webhooks) == 0:
		log.Warn("events.webhooks is empty: proxies learn of changes only by polling (remote.sync)")
	case cs.bolt != nil:
		if notifier, err = newNotifier(cfg, cs.bolt, log); err != nil {
			return err
		}
		c.add(notifier.Close)
		notices, stats = notifier, notifier.Stats
	default:
		if leases, err = newLeasePusher(cfg, cs, log); err != nil {
			return err
		}
		c.add(leases.Close)
		stats = leases.Stats
	}

	reg := central.OpenRegistryOn(cs.plugins, trusted, log)
	switch {
	case len(trusted) > 0:
	case ro.allowUnsigned:
		log.Warn("plugins.trusted_keys is empty and --allow-unsigned-plugins is set: plugin uploads signed by any key are accepted (development only)")
	default:
		reg.RequireTrustedKeys()
		log.Info("plugins.trusted_keys is empty: plugin uploads are refused until it lists the operators' public keys")
	}
	svc := tokenapi.NewService(db, policyValidator(cfg), policy.MergePatch, log)
	copts := central.Options{DB: db, Tokens: svc, Registry: reg, APIKey: key, NoAuth: ro.noAuth,
		Notices: notices, Logger: log, Metrics: metrics.NewRegistry(), PushStats: stats,
		ClientAddr: clientaddr.New(cfg.Console.TrustedProxyPrefixes())}
	if len(cfg.Console.TrustedProxies) > 0 {
		log.Info("client addresses are read from X-Forwarded-For and Forwarded on requests from console.trusted_proxies", "trusted_proxies", cfg.Console.TrustedProxies)
	}
	if err := withFleet(&copts, cfg, cs, log); err != nil {
		return err
	}
	if err := wireConsole(a, cfg, &copts, svc, cs, disp, log); err != nil {
		return err
	}
	srv, err := central.New(copts)
	if err != nil {
		return err
	}
	rctx, stopRetention := context.WithCancel(context.Background())
	go srv.RunRetention(rctx, time.Hour)
	c.add(func(context.Context) error { stopRetention(); return nil })
	// Announce the current revision before serving: whatever a previous
	// run committed but had not pushed, or what token commands changed
	// offline, reaches the proxies now.
	if err := srv.AnnounceRevision(); err != nil {
		return err
	}

	admin := tokenapi.NewLocalAdmin(svc, log)
	if err := admin.Start(cfg.Storage.DBPath, cfg.Server.AdminAddr); err != nil {
		return fmt.Errorf("starting the local admin endpoint: %w", err)
	}
	c.add(func(context.Context) error { return admin.Close() })

	ln, err := listenTCP(ro.addr)
	closeUnclaimed()
	if err != nil {
		return fmt.Errorf("listening on --addr %s: %w", ro.addr, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // plugin uploads
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// Pushes start once the API listens: a proxy told of a revision pulls
	// at once, and must find the server answering.
	if notifier != nil {
		if err := notifier.Start(); err != nil {
			return fmt.Errorf("starting pushes: %w", err)
		}
	}
	if leases != nil {
		leases.Start()
	}
	if everyInterface(ln.Addr()) {
		log.Warn("the central API listens on every network interface; use --addr 127.0.0.1:PORT to accept only local clients", "addr", ln.Addr().String())
	}
	if err := (readyFile{"API_ADDR": ln.Addr().String(), "ADMIN_ADDR": admin.Addr()}).write(ro.readyFile); err != nil {
		return err
	}
	log.Info("central server started", "addr", ln.Addr().String(), "admin_addr", admin.Addr(), "db_path", cfg.Storage.DBPath,
		"revision", db.Revision(), "plugin_revision", reg.Revision(), "webhooks", len(cfg.Events.Webhooks),
		"trusted_plugin_keys", len(trusted), "took", time.Since(began).Round(time.Millisecond).String())
	if disp != nil {
		if ev, err := events.New(events.ServerStart, events.SourceCentral, db.Revision(),
			events.ServerData{Role: "central", Version: currentBuild().Version}); err == nil {
			disp.Emit(ev)
		}
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving the central API: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.D())
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("the central API did not shut down cleanly", "error", err)
	}
	c.close(sctx, log)
	c.closers = nil
	return nil
}

// wireConsole adds the operators' console (/ui/).
func wireConsole(a *app, cfg *config.Config, o *central.Options, svc *tokenapi.Service, cs *centralStore, disp *events.Dispatcher, log hclog.Logger) error {
	cc := cfg.Console
	if cc.Disabled {
		return nil
	}
	key := o.APIKey
	if cc.KeyEnv != "" {
		if key = a.getenv(cc.KeyEnv); key == "" {
			return fmt.Errorf("console.key_env names $%s, which is empty", cc.KeyEnv)
		}
	}
	if key == "" {
		log.Warn("the console is off: it needs a sign-in key (console.key_env or the API key), and --insecure-no-auth has none")
		return nil
	}
	var audit *bbolt.DB
	var auditStore console.AuditStore
	var sessions console.SessionStore
	var signins console.SigninStore
	if cs.bolt != nil {
		audit = cs.bolt.Bolt() // the audit log, the sessions and failed sign-ins
	} else {
		// shared by every replica
		auditStore, sessions, signins = cs.pg.AuditLog(), cs.pg.ConsoleSessions(), cs.pg.ConsoleSignins()
	}
	var emit func(events.Event)
	if disp != nil {
		emit = disp.Emit
	}
	con, err := console.New(console.Options{Tokens: svc, Validate: policyValidator(cfg), Patch: policy.MergePatch,
		APIKey: o.APIKey, Key: key, IdleTimeout: cc.IdleTimeout.D(), MaxSession: cc.MaxSession.D(), SecureCookies: cc.SecureCookies, SigninAttempts: cc.SigninAttempts, ClientAddr: o.ClientAddr, DB: audit, Audit: auditStore, Sessions: sessions, Signins: signins,
		Emit: emit, Rollups: o.Usage,
		Revision: o.DB.Revision, Logger: log})
	if err != nil {
		return fmt.Errorf("starting the console: %w", err)
	}
	o.Console = con.Mount
	return nil
}

// newNotifier pushes token and plugin changes to events.webhooks, coalesced
// per target and written in the change's own transaction; nil when no
// webhook is configured.
func newNotifier(cfg *config.Config, db *store.DB, log hclog.Logger) (*events.Notifier, error) {
	if len(cfg.Events.Webhooks) == 0 {
		return nil, nil
	}
	n, err := events.NewNotifier(log, events.NotifierConfig{DB: db.Bolt(), Targets: webhookTargets(cfg, events.DirPush)})
	if err != nil {
		return nil, fmt.Errorf("events.webhooks: %w", err)
	}
	for i, w := range cfg.Events.Webhooks {
		if w.CAFile != "" {
			if _, err := os.Stat(cfg.Abs(w.CAFile)); err != nil {
				log.Warn("events.webhooks ca_file cannot be read yet: pushes to this webhook fail until it can (a proxy writes its generated CA when it first starts)",
					"webhook", i, "ca_file", cfg.Abs(w.CAFile), "error", err)
			}
		}
		if w.Insecure {
			log.Warn("events.webhooks insecure: true: the certificate of this webhook is not checked, so its secret goes to whoever answers",
				"webhook", i, "url", redactedURL(w.URL))
		}
	}
	return n, nil
}

// webhookTargets turns events.webhooks into delivery targets signed for
// dir as well (events.DirPush on central, events.DirReport on a proxy).
func webhookTargets(cfg *config.Config, dir events.Direction) []events.Target {
	var ts []events.Target
	for _, w := range cfg.Events.Webhooks {
		t := events.Target{URL: w.URL, Secret: w.Secret, SigningKey: w.SigningKey, Events: w.Events,
			Timeout: time.Duration(w.Timeout) * time.Second, Insecure: w.Insecure, Direction: dir}
		if w.CAFile != "" {
			t.CAFile = cfg.Abs(w.CAFile)
		}
		ts = append(ts, t)
	}
	return ts
}

// newLeasePusher pushes from this replica to the webhook targets whose
// lease it holds (storage.backend: postgres), fed by every replica's
// changes through the store's notices.
func newLeasePusher(cfg *config.Config, cs *centralStore, log hclog.Logger) (*central.LeasePusher, error) {
	p, err := central.NewLeasePusher(central.LeasePusherOptions{Targets: webhookTargets(cfg, events.DirPush), Spool: cs.spool,
		Leases: cs.pg.Leases(), Revision: cs.pg.Revision, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("events.webhooks: %w", err)
	}
	// The subscriptions end with the store, which closes after p.
	cs.pg.SubscribeBatch(p.Tokens)
	cs.pg.SubscribePlugins(p.Plugins)
	return p, nil
}
