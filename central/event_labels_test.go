package central

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// TestInboxEventTypeLabelsBounded: the inbox labels
// tokenomics_events_received_total by event type, which the sender chooses;
// unknown types share the label "other", so a sender cannot mint one
// Prometheus series per delivery.
func TestInboxEventTypeLabelsBounded(t *testing.T) {
	t.Parallel()
	db, err := store.Open(filepath.Join(t.TempDir(), "central.db"), store.Options{HashKey: []byte("0123456789abcdef-central-test")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	reg, err := OpenRegistry(db.Bolt(), nil, nil)
	require.NoError(t, err)
	es, err := NewBoltEventStore(db.Bolt())
	require.NoError(t, err)
	creds := events.Credentials{Secret: "fleet-secret", SigningKey: "fleet-signing-key"}
	v, err := events.NewVerifier(events.VerifierConfig{Secret: creds.Secret, SigningKey: creds.SigningKey})
	require.NoError(t, err)
	srv, err := New(Options{DB: db, Tokens: tokenapi.NewService(db, nil, nil, nil), Registry: reg, APIKey: testAPIKey,
		Events: es, EventVerifiers: []*events.Verifier{v}})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	const n = 300
	for i := range n {
		id := events.NewID()
		body, err := json.Marshal(map[string]any{"id": id, "type": "junk.t" + strconv.Itoa(i), "time": time.Now(), "source": "proxy:x"})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, hs.URL+"/webhook", bytes.NewReader(body))
		require.NoError(t, err)
		events.SignHeaders(req.Header.Set, creds, id, time.Now(), body)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
	}
	resp, err := http.Get(hs.URL + "/metrics")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	series := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "tokenomics_events_received_total{") {
			series++
		}
	}
	assert.LessOrEqual(t, series, 20, "one metric series per sender-chosen event type")
}
