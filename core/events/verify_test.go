package events

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testSecret = "change-me-webhook-secret"
	testKey    = "change-me-signing-key"
)

var testNow = time.Unix(1_750_000_000, 0)

// hdr is a header set as a map, with the lookup Verify takes.
type hdr map[string]string

func (h hdr) get(k string) string { return h[k] }

func (h hdr) with(k, v string) hdr {
	c := make(hdr, len(h)+1)
	for kk, vv := range h {
		c[kk] = vv
	}
	if v == "" {
		delete(c, k)
	} else {
		c[k] = v
	}
	return c
}

func eventBody(t testing.TB, id string) []byte {
	t.Helper()
	b, err := json.Marshal(Event{ID: id, Type: TokenCreated, Time: testNow, Revision: 3})
	require.NoError(t, err)
	return b
}

func signed(c Credentials, id string, at time.Time, body []byte) hdr {
	h := hdr{}
	SignHeaders(func(k, v string) { h[k] = v }, c, id, at, body)
	return h
}

func TestSignFormat(t *testing.T) {
	t.Parallel()
	// Known answer, computed independently:
	// printf '1750000000.{}' | openssl dgst -sha256 -hmac k
	sig := Sign("k", 1750000000, []byte("{}"))
	assert.Equal(t, "v1=ba5a977dde014d9c19d33c8080eb138a3ec435d0b612fdeacddff496c57ac0af", sig)
	assert.NotEqual(t, sig, Sign("k", 1750000001, []byte("{}")), "timestamp is signed")
	assert.NotEqual(t, sig, Sign("k2", 1750000000, []byte("{}")), "key matters")
}

func TestSignHeadersOnlyWhatIsConfigured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		cred                Credentials
		wantSig, wantSecret bool
	}{
		{name: "both", cred: Credentials{Secret: "s", SigningKey: "k"}, wantSig: true, wantSecret: true},
		{name: "secret only", cred: Credentials{Secret: "s"}, wantSecret: true},
		{name: "key only", cred: Credentials{SigningKey: "k"}, wantSig: true},
		{name: "none", cred: Credentials{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := signed(tc.cred, "abc", testNow, []byte("{}"))
			assert.Equal(t, "abc", h[HeaderEventID])
			assert.Equal(t, strconv.FormatInt(testNow.Unix(), 10), h[HeaderTimestamp])
			_, sig := h[HeaderSignature]
			_, sec := h[HeaderSecret]
			assert.Equal(t, tc.wantSig, sig)
			assert.Equal(t, tc.wantSecret, sec)
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	both := Credentials{Secret: testSecret, SigningKey: testKey}
	const id = "0123456789abcdef0123456789abcdef"
	body := eventBody(t, id)
	good := signed(both, id, testNow, body)

	tests := []struct {
		name    string
		cfg     VerifierConfig
		header  hdr
		body    []byte
		now     time.Time
		wantErr error
	}{
		{name: "valid", header: good},
		{name: "valid at the skew edge", header: signed(both, id, testNow.Add(-5*time.Minute), body)},
		{name: "valid from the future edge", header: signed(both, id, testNow.Add(5*time.Minute), body)},
		{name: "missing id", header: good.with(HeaderEventID, ""), wantErr: ErrMissingHeader},
		{name: "missing timestamp", header: good.with(HeaderTimestamp, ""), wantErr: ErrMissingHeader},
		{name: "missing signature", header: good.with(HeaderSignature, ""), wantErr: ErrMissingHeader},
		{name: "missing secret", header: good.with(HeaderSecret, ""), wantErr: ErrMissingHeader},
		{name: "wrong secret", header: good.with(HeaderSecret, "nope"), wantErr: ErrBadSecret},
		{name: "secret prefix", header: good.with(HeaderSecret, testSecret[:5]), wantErr: ErrBadSecret},
		{name: "wrong key", header: signed(Credentials{Secret: testSecret, SigningKey: "other"}, id, testNow, body), wantErr: ErrBadSignature},
		{name: "tampered body", header: good, body: eventBody(t, id)[1:], wantErr: ErrBadSignature},
		{name: "timestamp changed", header: good.with(HeaderTimestamp, strconv.FormatInt(testNow.Unix()+1, 10)), wantErr: ErrBadSignature},
		{name: "no scheme", header: good.with(HeaderSignature, strings.TrimPrefix(good[HeaderSignature], "v1=")), wantErr: ErrBadSignature},
		{name: "unknown scheme", header: good.with(HeaderSignature, "v2="+strings.TrimPrefix(good[HeaderSignature], "v1=")), wantErr: ErrBadSignature},
		{name: "not hex", header: good.with(HeaderSignature, "v1="+strings.Repeat("z", 64)), wantErr: ErrBadSignature},
		{name: "rotation list", header: good.with(HeaderSignature, Sign("old", testNow.Unix(), body)+", "+good[HeaderSignature])},
		{name: "stale", header: signed(both, id, testNow.Add(-5*time.Minute-time.Second), body), wantErr: ErrStale},
		{name: "future", header: signed(both, id, testNow.Add(5*time.Minute+time.Second), body), wantErr: ErrStale},
		{name: "custom skew", cfg: VerifierConfig{MaxSkew: time.Minute}, header: signed(both, id, testNow.Add(-2*time.Minute), body), wantErr: ErrStale},
		{name: "timestamp not a number", header: good.with(HeaderTimestamp, "12x"), wantErr: ErrMalformed},
		{name: "timestamp too long", header: good.with(HeaderTimestamp, strings.Repeat("1", 30)), wantErr: ErrMalformed},
		{name: "id with odd bytes", header: good.with(HeaderEventID, "a b"), wantErr: ErrMalformed},
		{name: "id too long", header: good.with(HeaderEventID, strings.Repeat("a", 200)), wantErr: ErrMalformed},
		{name: "id header differs from body", header: signed(both, "ffff", testNow, body), wantErr: ErrBadSignature},
		{name: "signed body is not json", header: signed(both, id, testNow, []byte("nope")), body: []byte("nope"), wantErr: ErrMalformed},
		{
			name: "secret-only receiver accepts secret alone", cfg: VerifierConfig{Secret: testSecret},
			header: signed(Credentials{Secret: testSecret}, id, testNow, body),
		},
		{
			name: "secret-only receiver checks the secret", cfg: VerifierConfig{Secret: testSecret},
			header: signed(Credentials{Secret: "x"}, id, testNow, body), wantErr: ErrBadSecret,
		},
		{
			name: "keyed receiver refuses secret alone", header: signed(Credentials{Secret: testSecret}, id, testNow, body),
			wantErr: ErrMissingHeader,
		},
		{
			name: "key-only receiver ignores the secret header", cfg: VerifierConfig{SigningKey: testKey},
			header: signed(Credentials{SigningKey: testKey, Secret: "whatever"}, id, testNow, body),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			if cfg.Secret == "" && cfg.SigningKey == "" {
				cfg.Secret, cfg.SigningKey = testSecret, testKey
			}
			v, err := NewVerifier(cfg)
			require.NoError(t, err)
			b := tc.body
			if b == nil {
				b = body
			}
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			got, err := v.Verify(tc.header.get, b, now)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Empty(t, got)
				assert.Zero(t, v.seen.len(), "a rejected request must not burn its id")
				assert.NotContains(t, err.Error(), testSecret)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.header[HeaderEventID], got)

			_, err = v.Verify(tc.header.get, b, now)
			require.ErrorIs(t, err, ErrReplay, "the same delivery twice")
		})
	}
}

func TestVerifyReplayAfterResign(t *testing.T) {
	t.Parallel()
	// A retry is signed afresh but keeps its id: within the window it is a
	// replay, after the window a legitimate redelivery.
	v, err := NewVerifier(VerifierConfig{SigningKey: testKey})
	require.NoError(t, err)
	c := Credentials{SigningKey: testKey}
	body := eventBody(t, "e1")
	_, err = v.Verify(signed(c, "e1", testNow, body).get, body, testNow)
	require.NoError(t, err)
	later := testNow.Add(time.Minute)
	_, err = v.Verify(signed(c, "e1", later, body).get, body, later)
	require.ErrorIs(t, err, ErrReplay)
	muchLater := testNow.Add(6 * time.Minute)
	_, err = v.Verify(signed(c, "e1", muchLater, body).get, body, muchLater)
	require.NoError(t, err)
}

func TestNewVerifierConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     VerifierConfig
		wantErr error
	}{
		{name: "nothing", cfg: VerifierConfig{}, wantErr: ErrNoCredentials},
		{name: "negative skew", cfg: VerifierConfig{Secret: "s", MaxSkew: -1}, wantErr: ErrBadConfig},
		{name: "negative cache", cfg: VerifierConfig{Secret: "s", ReplayCacheSize: -1}, wantErr: ErrBadConfig},
		{name: "secret", cfg: VerifierConfig{Secret: "s"}},
		{name: "key", cfg: VerifierConfig{SigningKey: "k"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(tc.cfg)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, DefaultMaxSkew, v.maxSkew)
		})
	}
}

func TestVerifyConcurrentReplays(t *testing.T) {
	t.Parallel()
	// Many goroutines deliver the same event: exactly one wins.
	v, err := NewVerifier(VerifierConfig{SigningKey: testKey})
	require.NoError(t, err)
	body := eventBody(t, "dup")
	h := signed(Credentials{SigningKey: testKey}, "dup", testNow, body)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(h.get, body, testNow); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
}

func FuzzVerify(f *testing.F) {
	c := Credentials{Secret: testSecret, SigningKey: testKey}
	const id = "0123456789abcdef0123456789abcdef"
	body, _ := json.Marshal(Event{ID: id, Type: TokenCreated})
	good := signed(c, id, testNow, body)
	f.Add(id, good[HeaderTimestamp], good[HeaderSignature], testSecret, body)
	f.Add(id, good[HeaderTimestamp], good[HeaderSignature], "", body)
	f.Add("", "", "", "", []byte{})
	f.Add(id, "-1", "v1=", testSecret, []byte(`{"id":1}`))
	f.Add(id, "99999999999999999999", "v1=00,v1=zz", testSecret, []byte(`{"id":"`+id+`"}`))
	f.Fuzz(func(t *testing.T, id, ts, sig, secret string, body []byte) {
		v, err := NewVerifier(VerifierConfig{Secret: testSecret, SigningKey: testKey})
		require.NoError(t, err)
		h := hdr{HeaderEventID: id, HeaderTimestamp: ts, HeaderSignature: sig, HeaderSecret: secret}
		got, err := v.Verify(h.get, body, testNow)
		if err != nil {
			return
		}
		// Only a correctly signed, correctly bound, fresh delivery may pass.
		n, perr := strconv.ParseInt(ts, 10, 64)
		require.NoError(t, perr)
		require.Equal(t, testSecret, secret)
		require.Contains(t, sig, Sign(testKey, n, body))
		require.Equal(t, id, got)
		var probe struct{ ID string }
		require.NoError(t, json.Unmarshal(body, &probe))
		require.Equal(t, id, probe.ID)
		require.LessOrEqual(t, absDuration(time.Unix(n, 0).Sub(testNow)), DefaultMaxSkew, fmt.Sprint(n))
	})
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
