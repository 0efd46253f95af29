package fakeupstream

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmbeddings(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{EmbeddingDims: 8})
	tests := []struct {
		name     string
		body     string
		keys     []string
		dims     int
		prompt   int
		encoding string
	}{
		{name: "string", body: `{"model":"text-embedding-3-small","input":"hello world"}`, keys: []string{"hello world"}, dims: 8, prompt: 2},
		{name: "array", body: `{"model":"e","input":["a b","c"],"dimensions":4}`, keys: []string{"a b", "c"}, dims: 4, prompt: 3},
		{name: "tokens", body: `{"model":"e","input":[1,2,3]}`, keys: []string{"[1,2,3]"}, dims: 8, prompt: 3},
		{name: "token arrays", body: `{"model":"e","input":[[1,2],[3]]}`, keys: []string{"[1,2]", "[3]"}, dims: 8, prompt: 3},
		{name: "base64", body: `{"model":"e","input":"hi","encoding_format":"base64"}`, keys: []string{"hi"}, dims: 8, prompt: 1, encoding: "base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := postOpenAI(t, url, "/v1/embeddings", tc.body)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var got embeddingList
			decodeStrict(t, res.body, &got)
			assert.Equal(t, "list", got.Object)
			require.Len(t, got.Data, len(tc.keys))
			for i, d := range got.Data {
				assert.Equal(t, "embedding", d.Object)
				assert.Equal(t, i, d.Index)
				want := Embedding(tc.keys[i], tc.dims)
				var vec []float32
				if tc.encoding == "base64" {
					raw, err := base64.StdEncoding.DecodeString(d.Embedding.(string))
					require.NoError(t, err)
					for j := 0; j+4 <= len(raw); j += 4 {
						vec = append(vec, math.Float32frombits(binary.LittleEndian.Uint32(raw[j:])))
					}
				} else {
					for _, f := range d.Embedding.([]any) {
						vec = append(vec, float32(f.(float64)))
					}
				}
				assert.Equal(t, want, vec)
			}
			require.NotNil(t, got.Usage)
			assert.Equal(t, tc.prompt, got.Usage.PromptTokens)
			assert.Equal(t, tc.prompt, got.Usage.TotalTokens)
		})
	}
}

func TestEmbeddingDeterministicUnit(t *testing.T) {
	t.Parallel()
	a, b, c := Embedding("x", 32), Embedding("x", 32), Embedding("y", 32)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	var norm float64
	for _, f := range a {
		norm += float64(f) * float64(f)
	}
	assert.InDelta(t, 1, norm, 1e-5)
}

func TestEmbeddingsInvalid(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, Options{})
	for _, body := range []string{
		`{"model":"e"}`, `{"model":"e","input":[]}`, `{"input":"x"}`,
		`{"model":"e","input":"x","dimensions":0}`, `{"model":"e","input":"x","encoding_format":"hex"}`,
		`{"model":"e","input":{"a":1}}`,
	} {
		res := postOpenAI(t, url, "/v1/embeddings", body)
		assert.Equal(t, http.StatusBadRequest, res.status, body)
	}
}
