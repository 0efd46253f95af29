package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

func TestPrint(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		ev   events.Event
		want string
	}{
		{
			name: "full",
			ev: events.Event{ID: "abc", Type: events.TokenUpdated, Time: at, Source: "central", Revision: 42,
				Data: json.RawMessage("{\n  \"token_hash_prefix\": \"a1b2c3d4\"\n}")},
			want: "2025-01-02T03:04:05Z token.updated abc source=central rev=42 {\"token_hash_prefix\":\"a1b2c3d4\"}\n",
		},
		{
			name: "minimal",
			ev:   events.Event{ID: "abc", Type: events.ServerStart, Time: at},
			want: "2025-01-02T03:04:05Z server.start abc\n",
		},
		{
			name: "hostile type is quoted",
			ev:   events.Event{ID: "abc", Type: "x\ny", Time: at, Source: "proxy:h 1"},
			want: "2025-01-02T03:04:05Z \"x\\ny\" abc source=\"proxy:h 1\"\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			(&printer{w: &out}).print(tc.ev)
			assert.Equal(t, tc.want, out.String())
		})
	}
}

func TestRunNeedsCredentials(t *testing.T) {
	t.Setenv("TOKENOMICS_WEBHOOK_SECRET", "")
	t.Setenv("TOKENOMICS_WEBHOOK_SIGNING_KEY", "")
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run([]string{"-addr", "127.0.0.1:0"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "secret or a signing key")
	assert.Empty(t, stdout.String())
}
