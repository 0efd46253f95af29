package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := Record{
		Hash:      fakeHash("ab", '1'),
		Policy:    policyJSON("m"),
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		ExpiresAt: &exp,
		Revision:  42,
	}
	sealed, err := newCodec(testEncKey)
	require.NoError(t, err)
	tests := []struct {
		name   string
		codec  codec
		format byte
	}{
		{name: "plain", codec: codec{}, format: valuePlain},
		{name: "sealed", codec: sealed, format: valueSealed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := tc.codec.encode(rec)
			require.NoError(t, err)
			assert.Equal(t, tc.format, v[0])
			assert.Equal(t, uint64(42), valueRevision(v))
			got, err := tc.codec.decode(rec.Hash, v)
			require.NoError(t, err)
			assert.Equal(t, rec, got)
		})
	}

	// The revision header is authenticated too.
	v, err := sealed.encode(rec)
	require.NoError(t, err)
	v[8]++
	_, err = sealed.decode(rec.Hash, v)
	require.ErrorIs(t, err, ErrDecrypt)
	// A sealed value read without a key says so.
	v[8]--
	_, err = codec{}.decode(rec.Hash, v)
	require.ErrorIs(t, err, ErrDecrypt)
}

func TestCodecDecodeCorrupt(t *testing.T) {
	t.Parallel()
	sealed, err := newCodec(testEncKey)
	require.NoError(t, err)
	h := fakeHash("ab", '1')
	tests := []struct {
		name  string
		codec codec
		value []byte
	}{
		{name: "empty", codec: codec{}, value: nil},
		{name: "header only, plain", codec: codec{}, value: []byte{valuePlain, 0, 0, 0, 0, 0, 0, 0, 1}},
		{name: "unknown format", codec: codec{}, value: []byte{9, 0, 0, 0, 0, 0, 0, 0, 1, '{', '}'}},
		{name: "bad json", codec: codec{}, value: append([]byte{valuePlain, 0, 0, 0, 0, 0, 0, 0, 1}, "{x"...)},
		{name: "truncated sealed", codec: sealed, value: []byte{valueSealed, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.codec.decode(h, tc.value)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

// FuzzDecodeValue feeds arbitrary bytes to both codecs: they must fail
// cleanly, never panic, and re-encode whatever they accept.
func FuzzDecodeValue(f *testing.F) {
	plain := codec{}
	sealed, err := newCodec(testEncKey)
	if err != nil {
		f.Fatal(err)
	}
	h := fakeHash("ab", '1')
	for _, c := range []codec{plain, sealed} {
		v, err := c.encode(Record{Hash: h, Policy: policyJSON("m"), Revision: 3})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
	}
	f.Add([]byte{valuePlain})
	f.Fuzz(func(t *testing.T, v []byte) {
		for _, c := range []codec{plain, sealed} {
			rec, err := c.decode(h, v)
			if err != nil {
				continue
			}
			if _, err := c.encode(rec); err != nil {
				t.Fatalf("re-encoding an accepted value: %v", err)
			}
		}
	})
}
