package events_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

// TestDirections: a delivery signed for one direction is refused by the
// receiver of the other, a receiver of a direction refuses a delivery
// signed with the plain key alone, and a receiver with no direction (a
// collector) still accepts every delivery signed with the key.
func TestDirections(t *testing.T) {
	t.Parallel()
	const key, secret = "change-me-signing-key", "change-me-webhook-secret"
	cases := []struct {
		name string
		sent events.Direction
		recv events.Direction
		ok   bool
	}{
		{"push to the push receiver", events.DirPush, events.DirPush, true},
		{"report to the inbox", events.DirReport, events.DirReport, true},
		{"push reflected to the inbox", events.DirPush, events.DirReport, false},
		{"report reflected to the push receiver", events.DirReport, events.DirPush, false},
		{"plain key to the push receiver", "", events.DirPush, false},
		{"plain key to the inbox", "", events.DirReport, false},
		{"push to a collector", events.DirPush, "", true},
		{"report to a collector", events.DirReport, "", true},
		{"plain to a collector", "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := events.New(events.TokenCreated, events.SourceCentral, 1, nil)
			require.NoError(t, err)
			body, err := json.Marshal(ev)
			require.NoError(t, err)
			h := http.Header{}
			now := time.Now()
			events.SignHeaders(h.Set, events.Credentials{Secret: secret, SigningKey: key, Direction: tc.sent}, ev.ID, now, body)
			v, err := events.NewVerifier(events.VerifierConfig{Secret: secret, SigningKey: key, Direction: tc.recv})
			require.NoError(t, err)
			_, err = v.Verify(h.Get, body, now)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, events.ErrBadSignature)
			}
		})
	}
	push, err := events.DirectionKey(key, events.DirPush)
	require.NoError(t, err)
	report, err := events.DirectionKey(key, events.DirReport)
	require.NoError(t, err)
	again, err := events.DirectionKey(key, events.DirPush)
	require.NoError(t, err)
	assert.Len(t, push, 32)
	assert.Equal(t, push, again, "derived keys are deterministic")
	assert.NotEqual(t, push, report)
	assert.NotEqual(t, key, push)
}
