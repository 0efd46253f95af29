package events

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// TLSOptions say how a client checks a server's certificate.
type TLSOptions struct {
	// CAFile is a PEM bundle trusted in addition to the system roots: the
	// CA (or the self-signed certificate) a proxy generated for itself.
	CAFile string
	// Insecure skips certificate verification altogether. The webhook body
	// is still signed, but the secret header travels to whoever answers.
	Insecure bool
}

// ClientTLS returns the TLS config for o: system roots plus CAFile, or no
// verification with Insecure.
func ClientTLS(o TLSOptions) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.Insecure {
		tc.InsecureSkipVerify = true //nolint:gosec // the operator's explicit choice, warned about at start
		return tc, nil
	}
	if o.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", o.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// newHTTPClient is a delivery client: its own transport with the target's
// TLS settings, and no redirects, since a redirect would carry the secret
// header wherever it points.
func newHTTPClient(o TLSOptions, conns int) (*http.Client, error) {
	tc, err := ClientTLS(o)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// IsCertError reports whether err is a failed certificate check (unknown
// authority, wrong host name, expired), the error that means "set ca_file"
// rather than "the endpoint is down".
func IsCertError(err error) bool {
	var (
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
		cv   *tls.CertificateVerificationError
	)
	return errors.As(err, &ua) || errors.As(err, &host) || errors.As(err, &inv) || errors.As(err, &cv)
}
