// Package pgtest gives tests a private PostgreSQL: the one named by
// TOKENOMICS_TEST_POSTGRES_DSN (test/testenv.sh starts one for `make
// test`), else a server of the test binary's own (Main), started with
// Debian's postgresql binaries in a temporary directory on a loopback port.
// Each test gets a fresh database on it (FreshDSN).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable holding a test server's DSN.
const EnvDSN = "TOKENOMICS_TEST_POSTGRES_DSN"

// BinDir is where Debian installs the server binaries.
var BinDir = "/usr/lib/postgresql/15/bin"

// Server is a PostgreSQL started by Start.
type Server struct {
	Dir  string
	Port int
	DSN  string
	user string
}

// ErrNoBinaries means initdb and pg_ctl are not installed.
var ErrNoBinaries = errors.New("pgtest: no PostgreSQL server binaries (apt-get install -y postgresql)")

// Start initialises and starts a private server. As root it runs the
// server as the postgres user, since initdb refuses root.
func Start() (*Server, error) {
	initdb := filepath.Join(BinDir, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		return nil, ErrNoBinaries
	}
	dir, err := os.MkdirTemp("", "tokenomics-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		s.user = "postgres"
	}
	if out, err := s.run(initdb, "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %w: %s", err, out)
	}
	for range 5 {
		n, _ := rand.Int(rand.Reader, big.NewInt(12000))
		// Below the kernel's ephemeral range, as test/testenv.sh does.
		s.Port = 20000 + int(n.Int64())
		out, err := s.run(filepath.Join(BinDir, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-l", filepath.Join(dir, "log"), "-w", "-t", "60",
			"-o", fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", s.Port, dir), "start")
		if err == nil {
			s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
			return s, nil
		}
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		if !contains(log, "in use") {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: pg_ctl start: %w: %s %s", err, out, tail(log))
		}
	}
	_ = os.RemoveAll(dir)
	return nil, errors.New("pgtest: no free port for PostgreSQL after 5 tries")
}

func (s *Server) run(name string, args ...string) ([]byte, error) {
	if s.user != "" {
		args = append([]string{"-u", s.user, "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	_, _ = s.run(filepath.Join(BinDir, "pg_ctl"), "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "stop")
	_ = os.RemoveAll(s.Dir)
}

func contains(b []byte, s string) bool { return len(b) > 0 && bytesIndex(b, s) >= 0 }

func bytesIndex(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

func tail(b []byte) string {
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	return string(b)
}

// Main runs m with a server: the one in EnvDSN, else a private one it
// starts and stops. Without binaries the tests run and FreshDSN skips.
func Main(m *testing.M) int {
	if os.Getenv(EnvDSN) != "" {
		return m.Run()
	}
	s, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL tests will skip: %v\n", err)
		return m.Run()
	}
	defer s.Stop()
	_ = os.Setenv(EnvDSN, s.DSN)
	return m.Run()
}

// FreshDSN creates an empty database for t on the test server and drops
// it when t ends. It skips t when there is no server.
func FreshDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		t.Skipf("no PostgreSQL: set %s or install postgresql (apt-get install -y postgresql); make test starts one (test/testenv.sh)", EnvDSN)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to the test PostgreSQL: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", EnvDSN, err)
	}
	u.Path = "/" + name
	return u.String()
}
