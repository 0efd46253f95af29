package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
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

// fleetFile writes n tokens of 40 policies of about 4 KB (loadgen's
// fleet) to a new file, in schema 2, or with old in schema 1 (each record
// holding its policy, as the store wrote them before policies were stored
// once); it returns the path, for a read-only open.
func fleetFile(b *testing.B, n int, old bool) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "tokens.db")
	db := openAt(b, path, nil)
	prompt := strings.Repeat("You are a careful assistant. ", 140)
	policies := make([]json.RawMessage, n)
	for i := range policies {
		policies[i] = json.RawMessage(fmt.Sprintf(`{"model":"gpt-4o","prompts":[{"role":"system","content":%q}],"metadata":{"team":"team-%d"}}`, prompt, i%40))
	}
	if _, err := db.CreateMany(policies, nil); err != nil {
		b.Fatal(err)
	}
	if old {
		err := db.Bolt().Update(func(tx *bbolt.Tx) error {
			recs := tx.Bucket(bucketRecords)
			v := &view{db: db, records: recs, policies: tx.Bucket(bucketPolicies)}
			var all []Record
			if err := recs.ForEach(func(k, val []byte) error {
				r, err := v.record(string(k), val)
				all = append(all, r)
				return err
			}); err != nil {
				return err
			}
			for _, r := range all {
				val, err := db.codec.encode(r)
				if err != nil {
					return err
				}
				if err := recs.Put([]byte(r.Hash), val); err != nil {
					return err
				}
			}
			if err := tx.DeleteBucket(bucketPolicies); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keySchema, []byte{1})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkFleetRead reads 10,000 tokens of 40 policies as a proxy's start
// does: "v1-list" is the schema 1 file listed (each record's policy JSON
// decoded and copied), "list" and "each" the schema 2 file.
func BenchmarkFleetRead(b *testing.B) {
	const n = 10_000
	for _, bc := range []struct {
		name string
		old  bool
		each bool
	}{{"v1-list", true, false}, {"list", false, false}, {"each", false, true}} {
		b.Run(bc.name, func(b *testing.B) {
			path := fleetFile(b, n, bc.old)
			db := openAt(b, path, func(o *Options) { o.ReadOnly = true })
			b.ReportAllocs()
			for b.Loop() {
				count := 0
				var err error
				if bc.each {
					err = db.Each(func(Record) error { count++; return nil })
				} else {
					var recs []Record
					recs, err = db.List()
					count = len(recs)
				}
				if err != nil || count != n {
					b.Fatal(count, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/token")
		})
	}
}
