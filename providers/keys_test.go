package providers

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var testKeys = NewKeys("model", "messages", "max_tokens", "stream")

// memberOf runs Keys.Member on the only member of {<key>:1}.
func memberOf(rawKey string) (string, error) {
	body := []byte("{" + rawKey + ":1}")
	s := NewScanner(body)
	obj := s.Object()
	k, ok := obj.Next()
	if !ok {
		return "", s.Err()
	}
	var seen uint64
	name := testKeys.Member(&s, k, &seen)
	return string(name), s.Err()
}

func TestKeysMember(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw     string
		refused bool
	}{
		{`"model"`, false},
		{`"other"`, false},
		{`"Other"`, false},
		{`"MODEL"`, true},
		{`"mod\u0065l"`, true},
		{"\"max_to\u212aens\"", true},
		{"\"\u017ftream\"", true},
		{`"\u006d\u006f\u0064\u0065\u006c"`, true},
		{`"model "`, false},
	} {
		_, err := memberOf(tc.raw)
		if (err != nil) != tc.refused {
			t.Errorf("%s: err %v, refused %v", tc.raw, err, tc.refused)
		}
	}
	// A repeat in one object.
	s := NewScanner([]byte(`{"model":1,"model":2}`))
	obj := s.Object()
	var seen uint64
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		testKeys.Member(&s, k, &seen)
	}
	if s.Err() == nil || !strings.Contains(s.Err().Error(), "more than once") {
		t.Fatalf("repeat not refused: %v", s.Err())
	}
}

// FuzzKeysMember checks Member against Go's own case-insensitive matching
// (strings.EqualFold, the rule encoding/json applies): a name that a lax
// decoder matches to a known one is accepted only when written exactly.
func FuzzKeysMember(f *testing.F) {
	for _, s := range []string{"model", "MODEL", "mod\u0065l", "max_to\u212aens", "\u017ftream", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			return
		}
		raw := string(AppendStringText(nil, name))
		got, err := memberOf(raw)
		exact := testKeys.Has(name) && raw == `"`+name+`"`
		folds := false
		for _, k := range []string{"model", "messages", "max_tokens", "stream"} {
			folds = folds || strings.EqualFold(name, k)
		}
		switch {
		case exact && err != nil:
			t.Fatalf("%q refused: %v", name, err)
		case folds && !exact && err == nil:
			t.Fatalf("%q accepted, folds onto a known name", name)
		case err == nil && got != name:
			t.Fatalf("%q read as %q", name, got)
		}
	})
}
