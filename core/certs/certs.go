package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names inside the certificate directory.
const (
	CAFile     = "ca.pem"
	CAKeyFile  = "ca-key.pem"
	CertFile   = "server.pem"
	KeyFile    = "server-key.pem"
	renewAhead = 30 * 24 * time.Hour
	// leafLifetime is the server certificate's validity, the most
	// browsers and most TLS clients accept.
	leafLifetime = 397 * 24 * time.Hour
)

// Options say where TLS material comes from.
type Options struct {
	CertFile, KeyFile string   // both set: use them as they are
	Dir               string   // otherwise: auto-generate here
	Hosts             []string // DNS names and IPs the server certificate covers (localhost and loopback are always added)
	Now               func() time.Time
	// Log, when set, receives what Load did to the directory (a
	// certificate issued, an old CA key removed).
	Log func(msg string, kv ...any)
}

// Load returns a tls.Config for the proxy's HTTPS listener.
func Load(o Options) (*tls.Config, error) {
	if o.CertFile != "" || o.KeyFile != "" {
		if o.CertFile == "" || o.KeyFile == "" {
			return nil, errors.New("certs: tls.cert_file and tls.key_file must be set together")
		}
		pair, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading TLS key pair %s / %s: %w", o.CertFile, o.KeyFile, err)
		}
		return serverConfig(pair), nil
	}
	if o.Dir == "" {
		return nil, errors.New("certs: tls.cert_dir is empty and no cert_file/key_file given")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	pair, err := ensure(o)
	if err != nil {
		return nil, err
	}
	return serverConfig(pair), nil
}

func serverConfig(pair tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

// ensure reuses the server certificate in o.Dir while it is valid, signed
// by ca.pem and covers the hosts; otherwise it issues a new one. The CA's
// private key is never kept: a CA is made for one issuance, signs the
// server certificate and is forgotten, so whoever reads the directory (or
// a backup of it) cannot mint certificates that clients trusting ca.pem
// would accept. A new issuance therefore comes with a new ca.pem, which
// clients must trust again. A ca-key.pem left by an older build is used
// one last time (clients keep their trust) and then removed.
func ensure(o Options) (tls.Certificate, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("creating certificate directory %s: %w", o.Dir, err)
	}
	now := o.Now()
	caPath, caKeyPath := filepath.Join(o.Dir, CAFile), filepath.Join(o.Dir, CAKeyFile)
	certPath, keyPath := filepath.Join(o.Dir, CertFile), filepath.Join(o.Dir, KeyFile)
	if ca, err := loadCert(caPath); err == nil {
		if leaf, _, err := loadPair(certPath, keyPath, now); err == nil && leaf.CheckSignatureFrom(ca) == nil && covers(leaf, o.Hosts) {
			if err := removeOldCAKey(o, caKeyPath); err != nil {
				return tls.Certificate{}, err
			}
			return tls.LoadX509KeyPair(certPath, keyPath)
		}
	}
	ca, caKey, err := loadPair(caPath, caKeyPath, now)
	if err != nil {
		if ca, caKey, err = newCA(o, now); err != nil {
			return tls.Certificate{}, err
		}
		o.log("generated a new local CA for the server certificate; clients must trust the new ca.pem", "ca_file", caPath)
	}
	if err := newServerCert(o, ca, caKey, now); err != nil {
		return tls.Certificate{}, err
	}
	o.log("issued the server certificate", "cert_file", certPath, "hosts", hosts(o.Hosts))
	if err := removeOldCAKey(o, caKeyPath); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

func (o Options) log(msg string, kv ...any) {
	if o.Log != nil {
		o.Log(msg, kv...)
	}
}

// removeOldCAKey deletes a CA key an older build kept beside the server key.
func removeOldCAKey(o Options, path string) error {
	err := os.Remove(path)
	switch {
	case err == nil:
		o.log("removed the CA private key from the certificate directory; the next renewal makes a new CA", "removed", path)
		return nil
	case errors.Is(err, os.ErrNotExist):
		return nil
	}
	return fmt.Errorf("removing the old CA key %s: %w", path, err)
}

func loadCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("certs: not PEM")
	}
	return x509.ParseCertificate(block.Bytes)
}

func loadPair(certPath, keyPath string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	cblock, _ := pem.Decode(cb)
	kblock, _ := pem.Decode(kb)
	if cblock == nil || kblock == nil {
		return nil, nil, errors.New("certs: not PEM")
	}
	cert, err := x509.ParseCertificate(cblock.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kblock.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if now.Add(renewAhead).After(cert.NotAfter) {
		return nil, nil, errors.New("certs: expiring")
	}
	return cert, key, nil
}

// newCA makes a CA that lives as long as the certificate it will sign and
// may only vouch for the hosts it covers (name constraints), and writes
// its certificate, never its key.
func newCA(o Options, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Tokenomics local CA", Organization: []string{"Tokenomics"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(leafLifetime + 24*time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	for _, h := range hosts(o.Hosts) {
		if ip := net.ParseIP(h); ip != nil {
			bits := 8 * len(ip.To4())
			if bits == 0 {
				bits = 8 * net.IPv6len
			} else {
				ip = ip.To4()
			}
			tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
		} else {
			tmpl.PermittedDNSDomains = append(tmpl.PermittedDNSDomains, h)
		}
	}
	tmpl.PermittedDNSDomainsCritical = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating CA certificate: %w", err)
	}
	if err := writeFile(filepath.Join(o.Dir, CAFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func newServerCert(o Options, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "tokenomics proxy"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts(o.Hosts) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("creating server certificate: %w", err)
	}
	return writePEM(o.Dir, CertFile, KeyFile, der, key)
}

func hosts(extra []string) []string {
	hs := []string{"localhost", "127.0.0.1", "::1"}
	if name, err := os.Hostname(); err == nil && name != "" {
		hs = append(hs, name)
	}
	return append(hs, extra...)
}

func covers(leaf *x509.Certificate, extra []string) bool {
	for _, h := range hosts(extra) {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func writePEM(dir, certName, keyName string, der []byte, key *ecdsa.PrivateKey) error {
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding key: %w", err)
	}
	if err := writeFile(filepath.Join(dir, keyName), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, certName), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeFile replaces path atomically so a crash never leaves half a key.
func writeFile(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
