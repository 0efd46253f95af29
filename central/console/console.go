package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed policies/*.json
var policyFS embed.FS

// EventAudit is the type of the event every console change emits.
const EventAudit = "console.audit"

// Options are what a Console is built from; cmd/cli wires them.
type Options struct {
	// Tokens is the token service the REST API serves (tokenapi.Service).
	Tokens tokenapi.Manager
	// Validate is the service's policy validator, for live checks and
	// previews; the service validates again on every change.
	Validate tokenapi.Validator
	// Patch applies merge patches for previews (policy.MergePatch).
	Patch tokenapi.Patcher
	// APIKey authenticates the console's in-process calls to the REST API
	// (plugins, fleet); see Mount.
	APIKey string
	// Key signs operators in: the console key, else the API key.
	Key string
	// IdleTimeout ends unused sessions. Default 30m.
	IdleTimeout time.Duration
	// MaxSession ends every session this long after sign-in, used or not.
	// Default 12h.
	MaxSession time.Duration
	// SecureCookies marks cookies Secure on plain HTTP too (TLS ended by a
	// load balancer in front).
	SecureCookies bool
	// DB holds the audit log (bucket console_audit); nil keeps it in
	// memory (a central server on PostgreSQL has no bbolt file).
	DB *bbolt.DB
	// Audit, when set, holds the audit log instead of DB (PostgreSQL).
	Audit AuditStore
	// Sessions, when set, holds the sign-in sessions (PostgreSQL, shared
	// by every replica); else DB does (bucket console_sessions), else
	// memory (a restart signs everybody out).
	Sessions SessionStore
	// Signins, when set, keeps the failed sign-in allowances per source
	// (PostgreSQL, shared by every replica); else DB does (bucket
	// console_signins), else memory.
	Signins SigninStore
	// SigninAttempts is how many failed sign-ins a source may make before
	// it is locked out (then one try comes back every 10 s). Default 5.
	SigninAttempts int
	// ClientAddr finds the client behind a request (trusted proxies,
	// X-Forwarded-For, Forwarded) for the sign-in allowance, the audit log
	// and log lines; nil counts the TCP peer.
	ClientAddr *clientaddr.Resolver
	// Emit sends console.audit events; nil stores them only.
	Emit func(events.Event)
	// Rollups is central's store of the usage rollups proxies send
	// (POST /api/v1/usage): spend and charts come from it. nil when the
	// server keeps none.
	Rollups rollup.Store
	// Revision is the central token revision.
	Revision func() uint64
	Logger   hclog.Logger
}

// Console serves the operators' console.
type Console struct {
	o        Options
	log      hclog.Logger
	pages    map[string]*template.Template
	sessions *sessions
	audit    *auditLog
	plugins  *manifest.Client
	// fleetClient reads GET /api/v1/fleet in-process.
	fleetClient *fleet.Client
	api         *http.Client
	tmpl        []policyTemplate
	now         func() time.Time
}

// policyTemplate is a role policy offered on the create page.
type policyTemplate struct {
	Name   string
	Policy string // indented JSON
}

// ErrIncomplete means Options lack a required part.
var ErrIncomplete = errors.New("console: options need Tokens, Validate, Patch and Key")

// New builds a Console.
func New(o Options) (*Console, error) {
	if o.Tokens == nil || o.Validate == nil || o.Patch == nil || o.Key == "" {
		return nil, ErrIncomplete
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.MaxSession <= 0 {
		o.MaxSession = 12 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Revision == nil {
		o.Revision = func() uint64 { return 0 }
	}
	c := &Console{o: o, log: o.Logger.Named("console"), now: time.Now}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if c.tmpl, err = loadPolicyTemplates(); err != nil {
		return nil, err
	}
	if c.audit, err = openAudit(o.DB, o.Audit); err != nil {
		return nil, err
	}
	store := o.Sessions
	if store == nil && o.DB != nil {
		bs, err := openBoltSessions(o.DB, func() time.Time { return c.now() })
		if err != nil {
			return nil, err
		}
		store = bs
	}
	c.sessions = newSessions(o.IdleTimeout, o.MaxSession, func() time.Time { return c.now() }, store, c.log)
	c.sessions.signins = o.Signins
	if o.SigninAttempts > 0 {
		c.sessions.burst = float64(o.SigninAttempts)
	}
	if c.sessions.signins == nil && o.DB != nil {
		if c.sessions.signins, err = openBoltSignins(o.DB); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func loadPolicyTemplates() ([]policyTemplate, error) {
	names, err := fs.Glob(policyFS, "policies/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []policyTemplate
	for _, n := range names {
		b, err := policyFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return nil, fmt.Errorf("indenting template %s: %w", n, err)
		}
		out = append(out, policyTemplate{Name: strings.TrimSuffix(path.Base(n), ".json"), Policy: buf.String()})
	}
	return out, nil
}

// Mount returns the console's handler for /ui/, calling api (the central
// REST API, in-process) for plugins and the fleet. central.Options.Console
// takes it.
func (c *Console) Mount(api http.Handler) http.Handler {
	c.api = &http.Client{Transport: inProcess{h: api}, Timeout: 5 * time.Minute}
	c.plugins = manifest.NewClient("http://central.inprocess", c.o.APIKey, c.api)
	c.fleetClient = fleet.NewClient("http://central.inprocess", c.o.APIKey, c.api)
	return c.handler()
}

func (c *Console) handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServer(http.FS(static))))
	mux.HandleFunc("GET /ui/signin", c.signinPage)
	mux.HandleFunc("POST /ui/signin", c.signin)
	auth := func(pattern string, h func(http.ResponseWriter, *http.Request, *session)) {
		mux.Handle(pattern, c.authed(h))
	}
	auth("POST /ui/signout", c.signout)
	auth("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, "/ui/tokens", http.StatusSeeOther)
	})
	auth("GET /ui/tokens", c.tokenList)
	auth("GET /ui/tokens/new", c.tokenNew)
	auth("POST /ui/tokens/validate", c.tokenValidate)
	auth("POST /ui/tokens", c.tokenCreate)
	auth("GET /ui/tokens/{hash}", c.tokenPage)
	auth("GET /ui/tokens/{hash}/edit", c.tokenEdit)
	auth("POST /ui/tokens/{hash}/preview", c.tokenPreview)
	auth("POST /ui/tokens/{hash}/update", c.tokenUpdate)
	auth("GET /ui/tokens/{hash}/revoke", c.tokenRevokeConfirm)
	auth("POST /ui/tokens/{hash}/revoke", c.tokenRevoke)
	auth("GET /ui/fleet", c.fleetPage)
	auth("GET /ui/plugins", c.pluginList)
	auth("POST /ui/plugins", c.pluginUpload)
	auth("GET /ui/plugins/{sha}/withdraw", c.pluginWithdrawConfirm)
	auth("POST /ui/plugins/{sha}/withdraw", c.pluginWithdraw)
	auth("GET /ui/usage", c.usagePage)
	auth("GET /ui/usage.csv", c.usageCSV)
	auth("GET /ui/events", c.eventsPage)
	auth("GET /ui/audit", c.auditPage)
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, nil, http.StatusNotFound, "There is no such page.")
	})
	return securityHeaders(mux)
}

// securityHeaders sets the headers every console answer carries. No
// inline script or style is allowed: the console's script and stylesheet
// are files under /ui/static/.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin") // no-referrer would make browsers send "Origin: null" on form posts
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	CSRF    string
	Who     string
	Flash   string
	Error   string
	Refresh int // seconds; 0 for none
	Data    any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, p page) {
	t, ok := c.pages[name]
	if !ok {
		c.log.Error("no such console template", "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if s != nil {
		p.CSRF, p.Who = s.csrf, s.who
	}
	if p.Flash == "" && s != nil {
		p.Flash = c.sessions.takeFlash(s)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.Error("rendering console page", "template", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	c.render(w, r, s, status, "error", page{Title: http.StatusText(status), Error: msg})
}

// redirect answers a POST with 303 to target; flash, if any, is kept in
// s and shown by the next page s renders (not carried in the URL).
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, s *session, target, flash string) {
	if flash != "" {
		c.sessions.setFlash(s, flash)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
