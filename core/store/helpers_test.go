package store

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	testHashKey = []byte("0123456789abcdef-test-hash-key")
	testEncKey  = []byte("0123456789abcdef0123456789abcdef")
)

// openTest opens a fresh database in a temp dir; mutate tweaks the options.
func openTest(t testing.TB, mutate func(*Options)) *DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "tokens.db"), mutate)
}

func openAt(t testing.TB, path string, mutate func(*Options)) *DB {
	t.Helper()
	opts := Options{HashKey: testHashKey}
	if mutate != nil {
		mutate(&opts)
	}
	db, err := Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func policyJSON(name string) json.RawMessage {
	return json.RawMessage(`{"model":"` + name + `"}`)
}

// fakeHash builds a valid hash starting with prefix.
func fakeHash(prefix string, fill byte) string {
	return prefix + strings.Repeat(string(fill), HashLen-len(prefix))
}

// clock is a settable Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }
