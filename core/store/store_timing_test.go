package store

import (
	"testing"
)

func BenchmarkHasherAppendHash(b *testing.B) {
	h, err := NewHasher(testHashKey)
	if err != nil {
		b.Fatal(err)
	}
	token, _ := NewToken()
	tok := []byte(token)
	buf := make([]byte, 0, HashLen)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, HashLen)
		for pb.Next() {
			buf = h.AppendHash(buf[:0], tok)
		}
	})
	_ = buf
}

func BenchmarkLookup(b *testing.B) {
	for _, bc := range []struct {
		name string
		key  []byte
	}{
		{name: "plain", key: nil},
		{name: "encrypted", key: testEncKey},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := openTest(b, func(o *Options) { o.EncryptionKey = bc.key })
			var token string
			for range 1000 {
				tok, _, err := db.Create(policyJSON("gpt-4o"), nil)
				if err != nil {
					b.Fatal(err)
				}
				token = tok
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := db.Lookup(token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
