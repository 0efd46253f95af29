package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// postSignedEvent delivers one event to a central server's /webhook inbox.
func postSignedEvent(t *testing.T, base, id string) {
	t.Helper()
	body := fmt.Appendf(nil, `{"id":%q,"type":"rule.violation","time":"2026-12-07T00:00:00Z","source":"proxy:migrate-test"}`, id)
	req, err := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(body))
	require.NoError(t, err)
	events.SignHeaders(req.Header.Set, events.Credentials{Secret: centralSecret, SigningKey: centralSigning, Direction: events.DirReport}, id, time.Now(), body)
	resp, err := centralClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
}

// appendEventsReceiver gives the central server in dir an event inbox
// verified with the fleet's shared webhook credentials.
func appendEventsReceiver(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fmt.Fprintf(f, "events:\n  receiver:\n    secret: %s\n    signing_key: %s\n", centralSecret, centralSigning)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// listedEventIDs reads GET /api/v1/events?query.
func listedEventIDs(t *testing.T, base, query string) []string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/events?"+query, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+centralKey)
	resp, err := apiClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var listed struct {
		Events []storedEventJSON `json:"events"`
	}
	require.NoError(t, json.Unmarshal(raw, &listed), "%s", raw)
	var ids []string
	for _, e := range listed.Events {
		ids = append(ids, e.Event.ID)
	}
	return ids
}

// TestPGMigrateCopiesHistory: `tokenomics migrate` carries a bbolt
// central's history to PostgreSQL — usage rollups (and the batch ids it
// took, so a proxy retrying one is not counted twice), received events
// and the console audit log — and the migrated central serves them.
func TestPGMigrateCopiesHistory(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshDSN(t)
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv("TOKENOMICS_POSTGRES_DSN=" + dsn)
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	dir := newCentralDir(t, centralSetup{fakeURL: fake.URL()})
	appendEventsReceiver(t, dir)
	central := startRemote(t, dir, port, env)

	apiCreate(t, base)
	minute := time.Now().Unix() / 60 * 60
	batch := fmt.Appendf(nil, `{"id":"px-7-1","rows":[{"token_hash":"t1","model":"gpt-4o","provider":"openai","minute":%d,"requests":3,"input_tokens":30,"output_tokens":12}]}`, minute)
	require.True(t, postBatch(t, base, batch))
	id := events.NewID()
	postSignedEvent(t, base, id)
	consoleSignin(t, base, "operator-before-migrate")
	usageBefore := fmt.Sprint(totalsOf(centralUsage(t, base, "model")))
	central.Stop(t)

	postgresCentral(t, dir)
	res := run(t, dir, env, "migrate")
	require.Equal(t, 0, res.code, "migrate: %s", res.stderr)
	require.Contains(t, res.stdout, "History: 1 usage rows, 1 received events, 1 console audit entries.")

	startRemote(t, dir, port, env)
	require.Equal(t, usageBefore, fmt.Sprint(totalsOf(centralUsage(t, base, "model"))), "usage after the migration")
	require.False(t, postBatch(t, base, batch), "a batch the bbolt central took is known after the migration")
	require.Equal(t, usageBefore, fmt.Sprint(totalsOf(centralUsage(t, base, "model"))))
	require.Equal(t, []string{id}, listedEventIDs(t, base, "since=720h"))
	c := consoleSignin(t, base, "operator-after-migrate")
	resp, err := c.Get(base + "/ui/audit")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Contains(t, string(page), "operator-before-migrate", "the audit log came along")
	require.Contains(t, string(page), "operator-after-migrate")
}
