package certs

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// SniffListener serves TLS, and plain HTTP when AllowPlainHTTP says so, on
// one port: a connection whose first byte is a TLS handshake record (0x16)
// is wrapped in tls.Server; any other is passed through, or, when plain
// HTTP is not allowed, answered 400 "use https" and closed. The decision is
// taken on the connection's first Read, never in Accept, so a silent client
// cannot stall the accept loop. Allowing plain HTTP lets `init --insecure`
// clients use the HTTPS port as SEED.txt does.
type SniffListener struct {
	net.Listener
	TLS            *tls.Config
	AllowPlainHTTP bool
}

// ErrPlainHTTP ends a plain-HTTP connection to a TLS-only port.
var ErrPlainHTTP = errors.New("certs: plain http on a port that requires TLS")

// httpsRequired is the whole answer to plain HTTP on a TLS-only port, in
// the OpenAI error shape clients already parse.
const httpsRequired = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"

const httpsRequiredBody = `{"error":{"message":"This port only accepts HTTPS (server.tls.allow_plain_http is false); use an https:// base URL.","type":"invalid_request_error","code":"https_required"}}`

// Accept wraps the next connection.
func (l *SniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, cfg: l.TLS, plain: l.AllowPlainHTTP}, nil
}

type sniffConn struct {
	net.Conn
	cfg   *tls.Config
	plain bool
	once  sync.Once
	r     interface{ Read([]byte) (int, error) }
	w     interface{ Write([]byte) (int, error) }
	err   error
}

func (c *sniffConn) decide() {
	br := bufio.NewReaderSize(c.Conn, 512)
	first, err := br.Peek(1)
	if err != nil {
		c.err = err
		return
	}
	inner := &peekedConn{Conn: c.Conn, r: br}
	if first[0] == 0x16 {
		t := tls.Server(inner, c.cfg)
		c.r, c.w = t, t
		return
	}
	if !c.plain {
		// The request was already sent in the clear; say how to fix the
		// client, and never route it.
		_ = c.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = fmt.Fprintf(c.Conn, httpsRequired, len(httpsRequiredBody), httpsRequiredBody)
		c.err = ErrPlainHTTP
		return
	}
	c.r, c.w = inner, c.Conn
}

func (c *sniffConn) Read(p []byte) (int, error) {
	c.once.Do(c.decide)
	if c.err != nil {
		return 0, c.err
	}
	return c.r.Read(p)
}

func (c *sniffConn) Write(p []byte) (int, error) {
	c.once.Do(c.decide)
	if c.err != nil {
		return 0, c.err
	}
	return c.w.Write(p)
}

// peekedConn reads through the buffered reader that holds the peeked byte.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }
