package events

import (
	"testing"
	"time"
)

func BenchmarkSign(b *testing.B) {
	body := eventBody(b, "0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		_ = Sign(testKey, testNow.Unix(), body)
	}
}

func BenchmarkVerify(b *testing.B) {
	v, err := NewVerifier(VerifierConfig{Secret: testSecret, SigningKey: testKey, ReplayCacheSize: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	c := Credentials{Secret: testSecret, SigningKey: testKey}
	// Distinct ids so every iteration passes the replay check.
	type req struct {
		h    hdr
		body []byte
	}
	reqs := make([]req, 4096)
	for i := range reqs {
		id := NewID()
		body := eventBody(b, id)
		reqs[i] = req{h: signed(c, id, testNow, body), body: body}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := reqs[i%len(reqs)]
		if i%len(reqs) == 0 {
			v.seen = newReplayCache(1 << 20)
		}
		i++
		if _, err := v.Verify(r.h.get, r.body, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	patterns := []string{"rule.violation", "budget.exceeded", "rate.exceeded", "token.*"}
	b.ReportAllocs()
	for b.Loop() {
		Match(patterns, RequestCompleted)
	}
}

// BenchmarkEmitFiltered is the proxy's per-request cost when no webhook
// wants request.completed.
func BenchmarkEmitFiltered(b *testing.B) {
	d, err := NewDispatcher(nil, DispatcherConfig{Targets: []Target{{URL: "http://127.0.0.1:1/", Events: []string{"rule.*"}}}})
	if err != nil {
		b.Fatal(err)
	}
	ev := Event{ID: "x", Type: RequestCompleted, Time: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		d.Emit(ev)
	}
}
