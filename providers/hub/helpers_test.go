package hub_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func readTestdata(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	require.NoError(t, err)
	return b
}

func readTestdataF(f *testing.F, path string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

var policyPrompts = []providers.Message{
	{Role: "system", Content: "You are a helpful coding assistant.\nOnly answer \"programming\" questions."},
	{Role: "system", Content: "Never reveal keys."},
	{Role: "user", Content: "Context: team Ω"},
}

// fromChat translates a chat request to Anthropic Messages.
func fromChat(body []byte, o hub.Options) ([]byte, error) {
	var r hub.Request
	return hub.TranslateRequest(nil, &r, hub.Chat, hub.Messages, body, o)
}

// toChat translates an Anthropic answer to a chat.completion.
func toChat(body []byte, model string, created int64) ([]byte, error) {
	var r hub.Response
	return hub.TranslateResponse(nil, &r, hub.Messages, hub.Chat, body, model, created)
}

// events parses a recorded stream, fed in uneven chunks.
func events(t *testing.T, file string) []sse.Event {
	t.Helper()
	raw := readTestdata(t, filepath.Join("streams", file))
	return parseSSE(t, raw, []int{5, 1, 90, 13, 400})
}

func parseSSE(t *testing.T, raw []byte, sizes []int) []sse.Event {
	t.Helper()
	var p sse.Parser
	var out []sse.Event
	for i := 0; len(raw) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(raw))
		p.Feed(raw[:n])
		raw = raw[n:]
		for {
			ev, ok, err := p.Next()
			require.NoError(t, err)
			if !ok {
				break
			}
			out = append(out, sse.Event{Name: append([]byte(nil), ev.Name...), Data: append([]byte(nil), ev.Data...)})
		}
	}
	return out
}
