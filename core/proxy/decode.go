package proxy

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	brotli "github.com/molecule-man/go-brrr"
)

// Upstream answers are decompressed here, never by fasthttp's unbounded
// helpers: a compressed body is tiny on the wire and can expand without
// end, so a malicious or broken upstream could otherwise make the proxy
// buffer gigabytes (a 765 KB gzip body once grew to 805 MB). Every decoded
// body and stream stops at server.max_response_bytes.

// ErrResponseTooLarge means an upstream answer decoded to more than the
// limit; the proxy stops reading it.
var ErrResponseTooLarge = errors.New("proxy: upstream answer exceeds server.max_response_bytes after decompression")

// errUnsupportedEncoding means an upstream used a content coding the proxy
// does not decode: refusing is the fail-closed answer, since usage and
// output rules need the plain text.
var errUnsupportedEncoding = errors.New("proxy: unsupported content encoding from upstream")

// zstdMaxWindow bounds the memory a zstd frame may make the decoder
// reserve; provider answers are far smaller.
const zstdMaxWindow = 8 << 20

// decoder turns a compressed upstream body into plain bytes. close
// releases what the decoder holds (zstd keeps buffers) and is never nil.
func decoder(encoding []byte, src io.Reader) (r io.Reader, closeFn func(), err error) {
	noop := func() {}
	switch {
	case len(encoding) == 0, bytes.EqualFold(encoding, []byte("identity")):
		return src, noop, nil
	case bytes.EqualFold(encoding, []byte("gzip")), bytes.EqualFold(encoding, []byte("x-gzip")):
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, noop, fmt.Errorf("reading gzip header: %w", err)
		}
		return zr, noop, nil
	case bytes.EqualFold(encoding, []byte("deflate")):
		zr, err := zlib.NewReader(src)
		if err != nil {
			return nil, noop, fmt.Errorf("reading deflate header: %w", err)
		}
		return zr, func() { _ = zr.Close() }, nil
	case bytes.EqualFold(encoding, []byte("br")):
		return brotli.NewReader(src), noop, nil
	case bytes.EqualFold(encoding, []byte("zstd")):
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderMaxMemory(zstdMaxWindow))
		if err != nil {
			return nil, noop, fmt.Errorf("starting zstd decoder: %w", err)
		}
		return zr, zr.Close, nil
	}
	return nil, noop, fmt.Errorf("%w: %q", errUnsupportedEncoding, encoding)
}

// limitedReader fails with ErrResponseTooLarge once more than n bytes were
// read, instead of io.LimitReader's silent EOF: a cut answer must never
// pass for a complete one.
type limitedReader struct {
	r io.Reader
	n int64 // bytes still allowed
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, ErrResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// decodeBody returns the plain form of a whole upstream body, at most
// limit bytes.
func decodeBody(encoding, body []byte, limit int64) ([]byte, error) {
	if len(encoding) == 0 {
		if int64(len(body)) > limit {
			return nil, ErrResponseTooLarge
		}
		return body, nil
	}
	r, closeFn, err := decoder(encoding, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var out bytes.Buffer
	if _, err := out.ReadFrom(&limitedReader{r: r, n: limit}); err != nil {
		return nil, fmt.Errorf("decoding %s body: %w", encoding, err)
	}
	return out.Bytes(), nil
}
