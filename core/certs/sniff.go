package certs

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
)

// SniffListener serves TLS and plain HTTP on one port: a connection whose
// first byte is a TLS handshake record (0x16) is wrapped in tls.Server, any
// other is passed through. The decision is taken on the connection's first
// Read, never in Accept, so a silent client cannot stall the accept loop.
// This lets `init --insecure` clients use the HTTPS port as SEED.txt does.
type SniffListener struct {
	net.Listener
	TLS *tls.Config
}

// Accept wraps the next connection.
func (l *SniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, cfg: l.TLS}, nil
}

type sniffConn struct {
	net.Conn
	cfg  *tls.Config
	once sync.Once
	r    interface{ Read([]byte) (int, error) }
	w    interface{ Write([]byte) (int, error) }
	err  error
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
