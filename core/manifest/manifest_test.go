package manifest

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testKey(t *testing.T, seed byte) ed25519.PrivateKey {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func testManifest(wasm []byte) Manifest {
	return Manifest{Schema: SchemaVersion, Name: "orion-guard", Version: "1.2.0", ABI: ABIVersion,
		SHA256: Sum(wasm), Size: int64(len(wasm)), Limits: Limits{MemoryPages: 128},
		SignedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// mutate decodes an envelope, lets fn change it and re-encodes it.
func mutate(t *testing.T, data []byte, fn func(*Envelope)) []byte {
	t.Helper()
	var env Envelope
	require.NoError(t, json.Unmarshal(data, &env))
	fn(&env)
	out, err := json.Marshal(env)
	require.NoError(t, err)
	return out
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	wasm := []byte("\x00asm fake module bytes")
	k1, k2, k3 := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	signed, err := Sign(testManifest(wasm), k1)
	require.NoError(t, err)
	both, err := Sign(testManifest(wasm), k1, k2)
	require.NoError(t, err)

	tests := []struct {
		name    string
		data    []byte
		trusted []ed25519.PublicKey
		wantErr error
	}{
		{name: "trusted key", data: signed, trusted: []ed25519.PublicKey{pubOf(k1)}},
		{name: "one of several trusted keys", data: signed, trusted: []ed25519.PublicKey{pubOf(k3), pubOf(k1)}},
		{name: "rotation: new key only trusted", data: both, trusted: []ed25519.PublicKey{pubOf(k2)}},
		{name: "untrusted key", data: signed, trusted: []ed25519.PublicKey{pubOf(k3)}, wantErr: ErrUntrustedKey},
		{name: "no trusted keys", data: signed, trusted: nil, wantErr: ErrNoTrustedKeys},
		{name: "unsigned", data: mutate(t, signed, func(e *Envelope) { e.Signatures = nil }),
			trusted: []ed25519.PublicKey{pubOf(k1)}, wantErr: ErrUnsigned},
		{name: "payload tampered", data: mutate(t, signed, func(e *Envelope) {
			e.Payload = []byte(string(e.Payload[:len(e.Payload)-2]) + " }")
		}), trusted: []ed25519.PublicKey{pubOf(k1)}, wantErr: ErrBadSignature},
		{name: "sha256 swapped in payload", data: mutate(t, signed, func(e *Envelope) {
			m := testManifest([]byte("another binary"))
			e.Payload, _ = json.Marshal(m)
		}), trusted: []ed25519.PublicKey{pubOf(k1)}, wantErr: ErrBadSignature},
		{name: "signature flipped", data: mutate(t, signed, func(e *Envelope) { e.Signatures[0].Sig[0] ^= 1 }),
			trusted: []ed25519.PublicKey{pubOf(k1)}, wantErr: ErrBadSignature},
		{name: "trusted key swapped in, signature kept", data: mutate(t, signed, func(e *Envelope) {
			e.Signatures[0].PublicKey = pubOf(k3)
		}), trusted: []ed25519.PublicKey{pubOf(k3)}, wantErr: ErrBadSignature},
		{name: "re-signed by attacker", data: func() []byte {
			d, err := Sign(testManifest(wasm), k3)
			require.NoError(t, err)
			return d
		}(), trusted: []ed25519.PublicKey{pubOf(k1)}, wantErr: ErrUntrustedKey},
		{name: "wrong payload type", data: mutate(t, signed, func(e *Envelope) { e.PayloadType = "text/plain" }),
			trusted: []ed25519.PublicKey{pubOf(k1)}, wantErr: ErrMalformed},
		{name: "not json", data: []byte("hello"), trusted: []ed25519.PublicKey{pubOf(k1)}, wantErr: ErrMalformed},
		{name: "unknown field", data: []byte(`{"payload_type":"` + PayloadType + `","payload":"e30=","signatures":[],"x":1}`),
			trusted: []ed25519.PublicKey{pubOf(k1)}, wantErr: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := Verify(tc.data, tc.trusted)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, testManifest(wasm), m)
			require.NoError(t, CheckBinary(m, wasm))
		})
	}
}

func TestVerifySelfSigned(t *testing.T) {
	t.Parallel()
	wasm := []byte("module")
	signed, err := Sign(testManifest(wasm), testKey(t, 7))
	require.NoError(t, err)
	m, err := VerifySelfSigned(signed)
	require.NoError(t, err)
	assert.Equal(t, "orion-guard", m.Name)
	assert.Equal(t, []string{KeyID(pubOf(testKey(t, 7)))}, SignerIDs(signed))
	_, err = VerifySelfSigned(mutate(t, signed, func(e *Envelope) { e.Signatures[0].Sig[5] ^= 0x80 }))
	require.ErrorIs(t, err, ErrBadSignature)
}

func TestSignRefusesBadInput(t *testing.T) {
	t.Parallel()
	good := testManifest([]byte("x"))
	tests := []struct {
		name string
		m    func() Manifest
		keys []ed25519.PrivateKey
	}{
		{name: "no key", m: func() Manifest { return good }},
		{name: "duplicate key", m: func() Manifest { return good }, keys: []ed25519.PrivateKey{testKey(t, 1), testKey(t, 1)}},
		{name: "bad name", m: func() Manifest { m := good; m.Name = ".hidden"; return m }, keys: []ed25519.PrivateKey{testKey(t, 1)}},
		{name: "upper-case name", m: func() Manifest { m := good; m.Name = "Orion"; return m }, keys: []ed25519.PrivateKey{testKey(t, 1)}},
		{name: "bad version", m: func() Manifest { m := good; m.Version = "one"; return m }, keys: []ed25519.PrivateKey{testKey(t, 1)}},
		{name: "bad sha", m: func() Manifest { m := good; m.SHA256 = "ABC"; return m }, keys: []ed25519.PrivateKey{testKey(t, 1)}},
		{name: "zero size", m: func() Manifest { m := good; m.Size = 0; return m }, keys: []ed25519.PrivateKey{testKey(t, 1)}},
		{name: "schema", m: func() Manifest { m := good; m.Schema = 2; return m }, keys: []ed25519.PrivateKey{testKey(t, 1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Sign(tc.m(), tc.keys...)
			require.Error(t, err)
		})
	}
}

func TestCheckBinary(t *testing.T) {
	t.Parallel()
	wasm := []byte("the module")
	m := testManifest(wasm)
	tests := []struct {
		name string
		bin  []byte
		ok   bool
	}{
		{name: "same", bin: wasm, ok: true},
		{name: "one byte changed", bin: []byte("the modulE")},
		{name: "truncated", bin: wasm[:4]},
		{name: "empty", bin: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckBinary(m, tc.bin)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrDigestMismatch)
			}
		})
	}
}

func TestCheckUpgrade(t *testing.T) {
	t.Parallel()
	cur := testManifest([]byte("v1.2.0"))
	with := func(version string, bin string) Manifest {
		m := testManifest([]byte(bin))
		m.Version = version
		return m
	}
	tests := []struct {
		name    string
		current *Manifest
		next    Manifest
		wantErr error
	}{
		{name: "first", current: nil, next: cur},
		{name: "same binary again", current: &cur, next: cur},
		{name: "newer", current: &cur, next: with("1.3.0", "v1.3.0")},
		{name: "older", current: &cur, next: with("1.1.9", "v1.1.9"), wantErr: ErrRollback},
		{name: "pre-release of same", current: &cur, next: with("1.2.0-rc.1", "rc"), wantErr: ErrRollback},
		{name: "same version other binary", current: &cur, next: with("1.2.0", "evil"), wantErr: ErrVersionReused},
		{name: "build metadata only", current: &cur, next: with("1.2.0+2", "other"), wantErr: ErrVersionReused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckUpgrade(tc.current, tc.next)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{name: "equal", a: "1.2.3", b: "1.2.3", want: 0},
		{name: "v prefix", a: "v1.2.3", b: "1.2.3", want: 0},
		{name: "short form", a: "1", b: "1.0.0", want: 0},
		{name: "minor", a: "1.10.0", b: "1.9.0", want: 1},
		{name: "patch", a: "1.2.3", b: "1.2.4", want: -1},
		{name: "major", a: "2.0.0", b: "1.99.99", want: 1},
		{name: "release after pre-release", a: "1.0.0", b: "1.0.0-rc.1", want: 1},
		{name: "numeric pre-release", a: "1.0.0-rc.2", b: "1.0.0-rc.10", want: -1},
		{name: "numeric before alpha", a: "1.0.0-1", b: "1.0.0-alpha", want: -1},
		{name: "longer pre-release", a: "1.0.0-alpha.1", b: "1.0.0-alpha", want: 1},
		{name: "build ignored", a: "1.0.0+a", b: "1.0.0+b", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := CompareVersions(tc.a, tc.b)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			back, err := CompareVersions(tc.b, tc.a)
			require.NoError(t, err)
			assert.Equal(t, -tc.want, back)
		})
	}
}

func TestParseVersionRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "v", "1.2.3.4", "01.2", "1..2", "1.2.x", "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b", "-1", "1.2.3 "} {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			_, err := ParseVersion(s)
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	pub, priv, err := GenerateKey()
	require.NoError(t, err)
	pemKey, err := EncodePrivateKey(priv)
	require.NoError(t, err)
	tests := []struct {
		name string
		data []byte
	}{
		{name: "pkcs8 pem", data: pemKey},
		{name: "hex seed", data: []byte(hex.EncodeToString(priv.Seed()) + "\n")},
		{name: "base64 seed", data: []byte(base64.StdEncoding.EncodeToString(priv.Seed()))},
		{name: "base64 full key", data: []byte(base64.StdEncoding.EncodeToString(priv))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePrivateKey(tc.data)
			require.NoError(t, err)
			assert.True(t, priv.Equal(got))
		})
	}
	back, err := ParsePublicKey(EncodePublicKey(pub))
	require.NoError(t, err)
	assert.True(t, pub.Equal(back))
	back, err = ParsePublicKey(hex.EncodeToString(pub))
	require.NoError(t, err)
	assert.True(t, pub.Equal(back))

	for _, bad := range []string{"", "not a key", hex.EncodeToString([]byte("short"))} {
		_, err := ParsePrivateKey([]byte(bad))
		assert.ErrorIs(t, err, ErrBadKey, bad)
		_, err = ParsePublicKey(bad)
		assert.ErrorIs(t, err, ErrBadKey, bad)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	m := testManifest([]byte("x"))
	m.Limits = Limits{MemoryPages: 2048, CallTimeoutMS: 50}
	tests := []struct {
		name          string
		pages, callMS uint32
		ok            bool
	}{
		{name: "within", pages: 4096, callMS: 100, ok: true},
		{name: "no caps known", ok: true},
		{name: "memory too small", pages: 1024, callMS: 100},
		{name: "timeout too short", pages: 4096, callMS: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := m.CheckLimits(tc.pages, tc.callMS)
			assert.Equal(t, tc.ok, err == nil, "%v", err)
		})
	}
	m.ABI = 2
	require.ErrorIs(t, m.CheckABI(), ErrUnsupportedABI)
}

func TestAPIErrorIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code string
		want error
	}{
		{name: "rollback", code: CodeRollback, want: ErrRollback},
		{name: "reused", code: CodeReused, want: ErrVersionReused},
		{name: "untrusted", code: CodeUntrusted, want: ErrUntrustedKey},
		{name: "digest", code: CodeDigest, want: ErrDigestMismatch},
		{name: "unsigned", code: CodeUnsigned, want: ErrUnsigned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error = &APIError{Status: 409, Code: tc.code}
			assert.True(t, errors.Is(err, tc.want))
			assert.False(t, errors.Is(err, ErrUnreachable))
		})
	}
}
