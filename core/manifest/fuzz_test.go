package manifest

import (
	"crypto/ed25519"
	"testing"
)

// FuzzVerify: no input panics, and nothing verifies without the key's
// signature.
func FuzzVerify(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	good, err := Sign(Manifest{Schema: 1, Name: "p", Version: "1.0.0", ABI: 1, SHA256: Sum([]byte("w")), Size: 1}, priv)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"payload_type":"` + PayloadType + `","payload":"e30=","signatures":[{"public_key":"","sig":""}]}`))
	f.Add([]byte(`{}`))
	trusted := []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Verify(data, trusted)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("verified manifest does not validate: %v", err)
		}
		if _, err := VerifySelfSigned(data); err != nil {
			t.Fatalf("verified by a trusted key but not self-signed: %v", err)
		}
	})
}

// FuzzParseVersion: parsing never panics and comparison is reflexive.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.0.0-rc.1+b5", "0", "1.0.0-alpha.beta.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if v.Compare(v) != 0 {
			t.Fatalf("%q does not equal itself", s)
		}
	})
}
