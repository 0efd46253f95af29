package proxy

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"
)

func TestDecodeBodyLimits(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	small := bytes.Repeat([]byte(`{"x":"abc"}`), 1000)
	bomb := make([]byte, 8*limit) // zeros compress ~1000:1
	tests := []struct {
		name string
		enc  string
		zip  func(dst, src []byte) []byte
	}{
		{"gzip", "gzip", fasthttp.AppendGzipBytes},
		{"deflate", "deflate", fasthttp.AppendDeflateBytes},
		{"br", "br", fasthttp.AppendBrotliBytes},
		{"zstd", "zstd", fasthttp.AppendZstdBytes},
		{"identity", "", func(_, src []byte) []byte { return src }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeBody([]byte(tc.enc), tc.zip(nil, small), limit)
			require.NoError(t, err)
			assert.Equal(t, small, got)

			_, err = decodeBody([]byte(tc.enc), tc.zip(nil, bomb), limit)
			assert.True(t, errors.Is(err, ErrResponseTooLarge), "%v", err)

			exact := make([]byte, limit)
			got, err = decodeBody([]byte(tc.enc), tc.zip(nil, exact), limit)
			require.NoError(t, err, "a body of exactly the limit passes")
			assert.Len(t, got, limit)
		})
	}
	_, err := decodeBody([]byte("compress"), []byte("x"), limit)
	assert.True(t, errors.Is(err, errUnsupportedEncoding))
	_, err = decodeBody([]byte("gzip"), []byte("not gzip"), limit)
	assert.Error(t, err)
}

// A stream cut at the limit reports ErrResponseTooLarge, not a clean EOF.
func TestLimitedReaderStream(t *testing.T) {
	t.Parallel()
	src := bytes.NewReader(fasthttp.AppendGzipBytes(nil, make([]byte, 4<<20)))
	dec, closeFn, err := decoder([]byte("GZIP"), src)
	require.NoError(t, err)
	defer closeFn()
	n, err := io.Copy(io.Discard, &limitedReader{r: dec, n: 1 << 20})
	assert.Equal(t, int64(1<<20), n)
	assert.True(t, errors.Is(err, ErrResponseTooLarge))
}
