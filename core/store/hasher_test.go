package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewHasherKeyLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		key     []byte
		wantErr bool
	}{
		{name: "nil", key: nil, wantErr: true},
		{name: "15 bytes", key: make([]byte, 15), wantErr: true},
		{name: "16 bytes", key: make([]byte, 16)},
		{name: "64 bytes", key: make([]byte, 64)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := NewHasher(tc.key)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrInvalidKey)
				assert.Nil(t, h)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestHasherHash(t *testing.T) {
	t.Parallel()
	h, err := NewHasher(testHashKey)
	require.NoError(t, err)
	other, err := NewHasher(append([]byte("x"), testHashKey...))
	require.NoError(t, err)

	mac := hmac.New(sha256.New, testHashKey)
	mac.Write([]byte("tkn_abc"))
	want := hex.EncodeToString(mac.Sum(nil))

	assert.Equal(t, want, h.Hash("tkn_abc"))
	assert.Equal(t, want, h.Hash("tkn_abc"), "pooled state must be reset between uses")
	assert.Equal(t, "prefix:"+want, string(h.AppendHash([]byte("prefix:"), []byte("tkn_abc"))))
	assert.NotEqual(t, want, other.Hash("tkn_abc"))
	assert.NotEqual(t, want, h.Hash("tkn_abd"))
	assert.True(t, validHash(h.Hash("")))
}

func TestHasherKeyIsCopied(t *testing.T) {
	t.Parallel()
	key := append([]byte(nil), testHashKey...)
	h, err := NewHasher(key)
	require.NoError(t, err)
	before := h.Hash("tkn_x")
	key[0] ^= 0xff
	assert.Equal(t, before, h.Hash("tkn_x"))
}

func TestHasherConcurrent(t *testing.T) {
	t.Parallel()
	h, err := NewHasher(testHashKey)
	require.NoError(t, err)
	want := h.Hash("tkn_same")
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			buf := make([]byte, 0, HashLen)
			for range 200 {
				if got := string(h.AppendHash(buf[:0], []byte("tkn_same"))); got != want {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent hash %s, want %s", got, want)
	}
}

func TestHasherAppendHashAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	h, err := NewHasher(testHashKey)
	require.NoError(t, err)
	token := []byte("tkn_0123456789012345678901234567890123456789012")
	buf := make([]byte, 0, HashLen)
	h.AppendHash(buf, token) // fill the pool
	allocs := testing.AllocsPerRun(100, func() {
		buf = h.AppendHash(buf[:0], token)
	})
	assert.Zero(t, allocs)
}
