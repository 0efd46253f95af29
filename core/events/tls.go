package events

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// TLSOptions say how a client checks a server's certificate.
type TLSOptions struct {
	// CAFile is a PEM bundle trusted in addition to the system roots: the
	// CA (or the self-signed certificate) a proxy generated for itself. It
	// is read when a connection is made, again whenever it changes, so it
	// may appear after the client started (a proxy generates its CA on
	// its first start).
	CAFile string
	// Insecure skips certificate verification altogether. The webhook body
	// is still signed, but the secret header travels to whoever answers.
	Insecure bool
}

// ErrCAFile means the ca_file could not be read or holds no certificate.
var ErrCAFile = errors.New("events: ca_file unusable")

// NewTransport returns an HTTP transport whose TLS follows o. A CAFile
// that exists must hold a PEM certificate; one that does not exist yet
// fails each connection until it does.
func NewTransport(o TLSOptions) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if o.Insecure {
		tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the operator's explicit choice, warned about at start
		return tr, nil
	}
	if o.CAFile == "" {
		return tr, nil
	}
	ca := &caPool{path: o.CAFile}
	if _, err := ca.get(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		pool, err := ca.get()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		d := tls.Dialer{Config: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: host}}
		return d.DialContext(ctx, network, addr)
	}
	return tr, nil
}

// caPool is the system roots plus a CA file, reloaded when the file's
// modification time changes.
type caPool struct {
	path string
	mu   sync.Mutex
	mod  time.Time
	pool *x509.CertPool
}

func (c *caPool) get() (*x509.CertPool, error) {
	st, err := os.Stat(c.path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCAFile, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool != nil && st.ModTime().Equal(c.mod) {
		return c.pool, nil
	}
	pem, err := os.ReadFile(c.path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCAFile, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrCAFile, c.path)
	}
	c.pool, c.mod = pool, st.ModTime()
	return pool, nil
}

// newHTTPClient is a delivery client: its own transport with the target's
// TLS settings, and no redirects, since a redirect would carry the secret
// header wherever it points.
func newHTTPClient(o TLSOptions, conns int) (*http.Client, error) {
	tr, err := NewTransport(o)
	if err != nil {
		return nil, err
	}
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// IsCertError reports whether err is a failed certificate check (unknown
// authority, wrong host name, expired) or an unusable ca_file: the errors
// that mean "fix ca_file" rather than "the endpoint is down".
func IsCertError(err error) bool {
	var (
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
		cv   *tls.CertificateVerificationError
	)
	return errors.Is(err, ErrCAFile) || errors.As(err, &ua) || errors.As(err, &host) || errors.As(err, &inv) || errors.As(err, &cv)
}
