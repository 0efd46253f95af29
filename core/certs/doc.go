// Package certs provides the proxy's TLS material: a certificate and key named
// in the config, or a self-signed CA and a server certificate it signs,
// generated once into tls.cert_dir and reused across restarts so clients can
// trust the CA file (ca.pem) once.
package certs
