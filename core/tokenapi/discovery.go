package tokenapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// Discovery tells local commands where a running server's admin endpoint
// is. It sits next to the database it serves, readable by its owner only.
type Discovery struct {
	Addr   string `json:"addr"`   // loopback host:port
	Secret string `json:"secret"` // bearer secret of the admin API
	PID    int    `json:"pid"`    // the server process
}

// maxDiscoveryBytes bounds what ReadDiscovery will parse.
const maxDiscoveryBytes = 4 << 10

// DiscoveryPath is where the discovery file of the database at dbPath lives.
func DiscoveryPath(dbPath string) string { return dbPath + ".admin" }

// WriteDiscovery writes d atomically (temp file, then rename) with mode
// 0600. d.Addr must be a loopback address.
func WriteDiscovery(dbPath string, d Discovery) error {
	if err := checkLoopback(d.Addr); err != nil {
		return fmt.Errorf("writing discovery file: %w", err)
	}
	path := DiscoveryPath(dbPath)
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding discovery file: %w", err)
	}
	// CreateTemp makes the file 0600 from the start, so the secret is never
	// readable by others, not even briefly.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing discovery file %q: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing discovery file %q: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing discovery file %q: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing discovery file %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing discovery file %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing discovery file %q: %w", path, err)
	}
	return nil
}

// ReadDiscovery returns the discovery of a live server for dbPath. It gives
// ErrNoServer when there is no file or its process is gone (the stale file
// is removed), and ErrInsecureDiscovery when the file is readable by group
// or others or belongs to another user.
func ReadDiscovery(dbPath string) (Discovery, error) {
	path := DiscoveryPath(dbPath)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Discovery{}, ErrNoServer
	}
	if err != nil {
		return Discovery{}, fmt.Errorf("reading discovery file %q: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Discovery{}, fmt.Errorf("reading discovery file %q: %w", path, err)
	}
	if err := checkPrivate(path, fi); err != nil {
		return Discovery{}, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxDiscoveryBytes+1))
	if err != nil {
		return Discovery{}, fmt.Errorf("reading discovery file %q: %w", path, err)
	}
	if len(data) > maxDiscoveryBytes {
		return Discovery{}, fmt.Errorf("reading discovery file %q: larger than %d bytes", path, maxDiscoveryBytes)
	}
	d, err := parseDiscovery(data)
	if err != nil {
		return Discovery{}, fmt.Errorf("reading discovery file %q: %w", path, err)
	}
	if !processAlive(d.PID) {
		// Left behind by a server that died without cleaning up.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Discovery{}, fmt.Errorf("removing stale discovery file %q: %w", path, err)
		}
		return Discovery{}, ErrNoServer
	}
	return d, nil
}

// parseDiscovery decodes and checks a discovery file's content. The address
// is checked again here: a tampered file must not send the secret off-host.
func parseDiscovery(data []byte) (Discovery, error) {
	var d Discovery
	if err := json.Unmarshal(data, &d); err != nil {
		return Discovery{}, fmt.Errorf("decoding: %w", err)
	}
	if err := checkLoopback(d.Addr); err != nil {
		return Discovery{}, err
	}
	if d.Secret == "" {
		return Discovery{}, errors.New("no secret")
	}
	if d.PID <= 0 {
		return Discovery{}, fmt.Errorf("bad pid %d", d.PID)
	}
	return d, nil
}

// RemoveDiscovery deletes the discovery file of dbPath; a missing file is
// not an error.
func RemoveDiscovery(dbPath string) error {
	if err := os.Remove(DiscoveryPath(dbPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing discovery file: %w", err)
	}
	return nil
}

// checkLoopback accepts host:port where host is a loopback IP or
// "localhost"; an empty host (all interfaces) is refused.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrNotLoopback, addr, err)
	}
	if port == "" {
		return fmt.Errorf("%w: %q has no port", ErrNotLoopback, addr)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q", ErrNotLoopback, addr)
}
