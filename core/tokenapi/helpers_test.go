package tokenapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
)

const testSecret = "test-admin-secret"

// testValidate stands in for core/policy: objects only, no "forbidden"
// field, normalized by re-encoding (sorted keys, compact).
func testValidate(p json.RawMessage) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil || m == nil {
		return nil, errors.New("policy: must be a JSON object")
	}
	if _, bad := m["forbidden"]; bad {
		return nil, errors.New(`policy: unknown field "forbidden"`)
	}
	return json.Marshal(m)
}

// testPatch is a small RFC 7386 merge patch.
func testPatch(orig, patch []byte) ([]byte, error) {
	var o, p any
	if err := json.Unmarshal(orig, &o); err != nil {
		return nil, fmt.Errorf("decoding original: %w", err)
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, fmt.Errorf("decoding patch: %w", err)
	}
	return json.Marshal(merge(o, p))
}

func merge(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
		} else {
			tm[k] = merge(tm[k], v)
		}
	}
	return tm
}

func newTestDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "tokens.db"), store.Options{HashKey: []byte("0123456789abcdef-hash-key")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newTestService(t testing.TB) (*Service, *store.DB) {
	t.Helper()
	db := newTestDB(t)
	return NewService(db, testValidate, testPatch, nil), db
}

// newTestServer serves a fresh Service behind BearerAuth(testSecret).
func newTestServer(t testing.TB) (*httptest.Server, *Service, *store.DB) {
	t.Helper()
	svc, db := newTestService(t)
	srv := httptest.NewServer(NewHandler(svc, BearerAuth(testSecret), nil))
	t.Cleanup(srv.Close)
	return srv, svc, db
}

// seedHashes stores records under chosen hashes, for prefix tests.
func seedHashes(t testing.TB, db *store.DB, prefixes ...string) []string {
	t.Helper()
	rev := db.Revision()
	var changes []store.Change
	var hashes []string
	for _, p := range prefixes {
		rev++
		h := p + strings.Repeat("0", store.HashLen-len(p))
		hashes = append(hashes, h)
		changes = append(changes, store.Change{Revision: rev, Hash: h, Record: &store.Record{Policy: json.RawMessage(`{"model":"seed"}`)}})
	}
	require.NoError(t, db.Apply(changes, rev))
	return hashes
}

// newBufferLogger logs to buf, for checking what reaches the log.
func newBufferLogger(buf *bytes.Buffer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: buf, Level: hclog.Debug})
}
