package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// provider is one configured upstream, ready for requests: its URL split
// once, its wire format and its auth scheme.
type provider struct {
	cfg      config.Provider
	name     string
	format   providers.Format
	scheme   string // http or https
	host     string // host[:port] as written, for the Host header
	addr     string // host:port to dial
	basePath string // path prefix kept from upstream_url, no trailing slash
	query    string // query kept from upstream_url
}

func newProvider(p config.Provider) (*provider, error) {
	u, err := url.Parse(p.UpstreamURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("provider %q: upstream_url is not an absolute http(s) URL", p.Name)
	}
	f, err := providers.ParseFormat(p.Format)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", p.Name, err)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	return &provider{cfg: p, name: p.Name, format: f, scheme: u.Scheme, host: u.Host, addr: addr,
		basePath: strings.TrimRight(u.Path, "/"), query: u.RawQuery}, nil
}

// path returns the upstream path for an endpoint, keeping the base path of
// upstream_url (Groq's /openai, for instance).
func (p *provider) path(ep endpoint) string {
	switch ep {
	case epChat:
		if p.format == providers.Anthropic {
			return p.basePath + p.chatPath("/v1/messages")
		}
		return p.basePath + p.chatPath("/v1/chat/completions")
	case epMessages:
		return p.basePath + p.chatPath("/v1/messages")
	case epCompletions:
		return p.basePath + "/v1/completions"
	case epEmbeddings:
		return p.basePath + "/v1/embeddings"
	case epResponses:
		return p.basePath + "/v1/responses"
	}
	return p.basePath
}

func (p *provider) chatPath(def string) string {
	if p.cfg.ChatPath != "" {
		return p.cfg.ChatPath
	}
	return def
}

// setAuth adds the provider key the way the provider expects it.
func (p *provider) setAuth(req *fasthttp.Request, key string) {
	switch p.cfg.AuthScheme {
	case "header":
		req.Header.Set(p.cfg.AuthHeader, key)
	case "query":
		req.URI().QueryArgs().Set(p.cfg.AuthQuery, key)
	case "none":
	default:
		h := p.cfg.AuthHeader
		if h == "" {
			h = "Authorization"
		}
		req.Header.Set(h, "Bearer "+key)
	}
}

// clients keeps one fasthttp.HostClient per upstream address and idle
// timeout. Streams get no overall deadline, only the idle one: the policy
// timeout bounds the wait for each byte, so a long stream that keeps
// producing is never cut, and a stalled one is.
type clients struct {
	mu sync.Mutex
	m  map[clientKey]*fasthttp.HostClient
	// tlsConfig is for upstreams; verification stays on.
	tlsConfig *tls.Config
}

type clientKey struct {
	addr string
	tls  bool
	idle time.Duration
}

func newClients() *clients {
	return &clients{m: map[clientKey]*fasthttp.HostClient{}, tlsConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
}

func (c *clients) get(p *provider, idle time.Duration) *fasthttp.HostClient {
	k := clientKey{addr: p.addr, tls: p.scheme == "https", idle: idle}
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc := c.m[k]; hc != nil {
		return hc
	}
	hc := &fasthttp.HostClient{
		Addr:                          k.addr,
		IsTLS:                         k.tls,
		TLSConfig:                     c.tlsConfig,
		Name:                          "tokenomics",
		MaxConns:                      1024,
		MaxIdleConnDuration:           30 * time.Second,
		MaxResponseBodySize:           64 << 20,
		ReadBufferSize:                16 << 10,
		DisableHeaderNamesNormalizing: false,
		DisablePathNormalizing:        true,
		NoDefaultUserAgentHeader:      true,
		Dial: func(addr string) (net.Conn, error) {
			conn, err := fasthttp.DialTimeout(addr, 10*time.Second)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: conn, idle: idle}, nil
		},
		// A POST on a pooled connection the upstream already closed fails
		// before any byte of the answer: safe to send once more.
		RetryIfErr: func(_ *fasthttp.Request, attempts int, err error) (bool, bool) {
			return false, attempts < 2 && errors.Is(err, fasthttp.ErrConnectionClosed)
		},
	}
	c.m[k] = hc
	return hc
}

// idleConn applies an idle timeout to every read, on top of any deadline
// fasthttp sets for the whole call.
//
// Setting a deadline resets a runtime timer, so a read re-arms it only when
// it must: never while the call's own deadline is the nearer one (every
// non-streamed call: its deadline is start + timeout, nearer than now +
// idle), and on a stream only once the armed deadline falls short of now +
// idle. A stream's deadline is then armed idleSlack later than strictly
// needed, so a stalled stream is cut between idle and idle × 33/32 after
// its last byte, and a stream that keeps producing re-arms about once
// per idle/32 instead of on every read.
type idleConn struct {
	net.Conn
	idle     time.Duration
	deadline time.Time // fasthttp's, for the whole call; zero: none
	armed    time.Time // the read deadline last set on Conn
}

func (c *idleConn) SetReadDeadline(t time.Time) error {
	c.deadline, c.armed = t, t
	return c.Conn.SetReadDeadline(t)
}

func (c *idleConn) SetDeadline(t time.Time) error {
	c.deadline, c.armed = t, t
	return c.Conn.SetDeadline(t)
}

func (c *idleConn) Read(b []byte) (int, error) {
	if c.idle > 0 {
		need := time.Now().Add(c.idle) // the latest the next byte may come
		var d time.Time
		switch {
		case !c.deadline.IsZero() && !c.deadline.After(need):
			d = c.deadline // the call's deadline is the nearer one
		case !c.armed.IsZero() && !c.armed.Before(need) && (c.deadline.IsZero() || !c.armed.After(c.deadline)):
			d = c.armed // still armed late enough
		default:
			d = need.Add(c.idle / 32)
			if !c.deadline.IsZero() && c.deadline.Before(d) {
				d = c.deadline
			}
		}
		if !d.Equal(c.armed) {
			if err := c.Conn.SetReadDeadline(d); err != nil {
				return 0, err
			}
			c.armed = d
		}
	}
	return c.Conn.Read(b)
}
