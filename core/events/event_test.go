package events

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 1000 {
		id := NewID()
		require.Len(t, id, 32)
		_, err := hex.DecodeString(id)
		require.NoError(t, err)
		require.False(t, seen[id], "duplicate id")
		seen[id] = true
	}
}

func TestNewEventJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		typ      string
		source   string
		revision uint64
		data     any
		wantKeys []string
		noKeys   []string
	}{
		{
			name: "token event", typ: TokenUpdated, source: SourceCentral, revision: 7,
			data:     TokenData{TokenHashPrefix: HashPrefix("abcdef0123456789")},
			wantKeys: []string{"id", "type", "time", "source", "revision", "data"},
		},
		{
			name: "no data", typ: ServerStart, source: ProxySource("h1"),
			wantKeys: []string{"id", "type", "time", "source"},
			noKeys:   []string{"data", "revision"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := New(tc.typ, tc.source, tc.revision, tc.data)
			require.NoError(t, err)
			raw, err := json.Marshal(ev)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(raw, &m))
			for _, k := range tc.wantKeys {
				assert.Contains(t, m, k)
			}
			for _, k := range tc.noKeys {
				assert.NotContains(t, m, k)
			}
			var back Event
			require.NoError(t, json.Unmarshal(raw, &back))
			assert.Equal(t, ev.ID, back.ID)
			assert.True(t, ev.Time.Equal(back.Time))
		})
	}
}

func TestNewRejectsBadData(t *testing.T) {
	t.Parallel()
	_, err := New(RuleLogged, "", 0, func() {})
	require.Error(t, err)
}

func TestHashPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "long", in: "0123456789abcdef", want: "01234567"},
		{name: "short", in: "abc", want: "abc"},
		{name: "empty", in: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, HashPrefix(tc.in))
		})
	}
}
