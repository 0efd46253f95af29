package providers_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// literalRef returns the ref of the first string literal in body.
func literalRef(t *testing.T, body []byte) providers.TextRef {
	t.Helper()
	s := providers.NewScanner(body)
	v := s.Value()
	require.NoError(t, s.Finish())
	require.Equal(t, providers.KindString, v.Kind)
	return v.Ref("user", providers.TextMessage, 0, -1)
}

func TestDecodeText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		lit  string
		want string
	}{
		{"plain", `"hello"`, "hello"},
		{"empty", `""`, ""},
		{"quote and backslash", `"say \"hi\" \\ ok"`, `say "hi" \ ok`},
		{"controls", `"a\nb\tc\rd\be\ff\/g"`, "a\nb\tc\rd\be\ff/g"},
		{"latin escape", `"caf\u00e9"`, "café"},
		{"raw utf8", `"café 日本"`, "café 日本"},
		{"surrogate pair", `"\ud83d\ude00!"`, "😀!"},
		{"upper hex", `"\u00C9"`, "É"},
		{"lone high surrogate", `"\ud83dx"`, "\uFFFDx"},
		{"lone low surrogate", `"\ude00"`, "\uFFFD"},
		{"high then non-surrogate", `"\ud83d\u0041"`, "\uFFFDA"},
		{"invalid utf8", "\"a\xffb\"", "a\uFFFDb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tc.lit)
			ref := literalRef(t, body)
			got, err := providers.DecodeText([]byte("prefix:"), body, ref)
			require.NoError(t, err)
			assert.Equal(t, "prefix:"+tc.want, string(got), "appends to dst")
			// encoding/json agrees on every case.
			var std string
			require.NoError(t, json.Unmarshal(body, &std))
			assert.Equal(t, std, tc.want)
		})
	}
}

func TestDecodeTextBadRef(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":"xy","n":12}`)
	cases := []struct {
		name string
		ref  providers.TextRef
	}{
		{"number", providers.TextRef{Start: 14, End: 16}},
		{"out of range", providers.TextRef{Start: 5, End: 99}},
		{"negative", providers.TextRef{Start: -1, End: 4}},
		{"inside literal", providers.TextRef{Start: 6, End: 8}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := providers.DecodeText(nil, body, tc.ref)
			assert.ErrorIs(t, err, providers.ErrBadRef)
		})
	}
}

// TestSpliceMaskRoundTrip masks a number in the middle of an escaped string
// the way the rules host does: decode, edit the text, splice it back.
func TestSpliceMaskRoundTrip(t *testing.T) {
	t.Parallel()
	body := []byte(`{"messages":[{"role":"user","content":"My SSN is \"078-05-1120\"\nthanks, Ren\u00e9 \ud83d\ude00"}],"model":"m"}`)
	s := providers.NewScanner(body)
	var ref providers.TextRef
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) != "messages" {
			continue
		}
		arr := s.Array()
		for arr.Next() {
			m := s.Object()
			for {
				mk, ok := m.Next()
				if !ok {
					break
				}
				if string(s.Key(mk)) == "content" {
					ref = s.Value().Ref("user", providers.TextMessage, arr.Index(), -1)
				}
			}
		}
	}
	require.NoError(t, s.Finish())

	text, err := providers.DecodeText(nil, body, ref)
	require.NoError(t, err)
	masked := bytes.Replace(text, []byte("078-05-1120"), []byte("[SSN]"), 1)
	out, err := providers.Splice(nil, body, []providers.Edit{{Ref: ref, Text: masked}})
	require.NoError(t, err)

	var doc struct {
		Messages []struct{ Role, Content string }
		Model    string
	}
	require.NoError(t, json.Unmarshal(out, &doc))
	assert.Equal(t, "My SSN is \"[SSN]\"\nthanks, René 😀", doc.Messages[0].Content)
	assert.Equal(t, "m", doc.Model)
	assert.Equal(t, body[:ref.Start], out[:ref.Start], "bytes before the edit are unchanged")
}

func TestSpliceEdits(t *testing.T) {
	t.Parallel()
	body := []byte(`["a","b","c"]`)
	refA := providers.TextRef{Start: 1, End: 4}
	refB := providers.TextRef{Start: 5, End: 8}
	refC := providers.TextRef{Start: 9, End: 12}
	cases := []struct {
		name  string
		edits []providers.Edit
		want  string
		err   error
	}{
		{name: "none", want: `["a","b","c"]`},
		{name: "two", edits: []providers.Edit{{Ref: refA, Text: []byte("x\ty")}, {Ref: refC, Text: []byte(`"q"`)}}, want: `["x\ty","b","\"q\""]`},
		{name: "all", edits: []providers.Edit{{Ref: refA}, {Ref: refB}, {Ref: refC}}, want: `["","",""]`},
		{name: "unsorted: put in body order", edits: []providers.Edit{{Ref: refC, Text: []byte("z")}, {Ref: refA}}, want: `["","b","z"]`},
		{name: "overlapping", edits: []providers.Edit{{Ref: refA}, {Ref: providers.TextRef{Start: 3, End: 8}}}, err: providers.ErrBadEdit},
		{name: "not a literal", edits: []providers.Edit{{Ref: providers.TextRef{Start: 0, End: 4}}}, err: providers.ErrBadEdit},
		{name: "out of range", edits: []providers.Edit{{Ref: providers.TextRef{Start: 9, End: 40}}}, err: providers.ErrBadEdit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := providers.Splice(nil, body, tc.edits)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(out))
		})
	}
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "hello", `"hello"`},
		{"escapes", "a\"b\\c\nd\re\tf", `"a\"b\\c\nd\re\tf"`},
		{"controls", "\x00\x1f\x08", `"\u0000\u001f\u0008"`},
		{"utf8 kept", "café 😀", `"café 😀"`},
		{"invalid utf8", "a\xffb\xc3", `"a\ufffdb\ufffd"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, string(providers.AppendString(nil, []byte(tc.in))))
			assert.Equal(t, tc.want, string(providers.AppendStringText(nil, tc.in)))
			assert.Equal(t, tc.want[1:len(tc.want)-1], string(providers.AppendEscapedString(nil, tc.in)))
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, seed := range []string{"", "hello", "a\"b\\c", "\x00\xff", "😀\xed\xa0\xbd", "\u2028"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lit := providers.AppendString(nil, in)
		require.True(t, json.Valid(lit), "invalid literal %q", lit)
		var got string
		require.NoError(t, json.Unmarshal(lit, &got))
		// encoding/json also turns each invalid byte into U+FFFD.
		std, err := json.Marshal(string(in))
		require.NoError(t, err)
		var want string
		require.NoError(t, json.Unmarshal(std, &want))
		assert.Equal(t, want, got)
		ref := providers.TextRef{Start: 0, End: len(lit)}
		dec, err := providers.DecodeText(nil, lit, ref)
		require.NoError(t, err)
		assert.Equal(t, got, string(dec))
	})
}

// FuzzScanner checks that the scanner never panics and agrees with
// encoding/json on validity.
func FuzzScanner(f *testing.F) {
	for _, tc := range validityCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want := json.Valid(body)
		assert.Equal(t, want, walkAll(body) == nil)
		assert.Equal(t, want, skipAll(body) == nil)
	})
}

// FuzzEstimateTokens checks the hard floor of the estimate documented in
// doc.go, and that a literal estimates like its text.
func FuzzEstimateTokens(f *testing.F) {
	for _, seed := range []string{"", " ", "hello world", "                                   x", "\n\n\n    ", "日本語", "😀😀", "a1b2c3", "{\"a\":[1,2]}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		est := providers.EstimateTokens(text)
		require.GreaterOrEqual(t, 16*est+1, int64(len(text)), "estimate %d for %d bytes", est, len(text))
		if utf8.Valid(text) && len(text) < 400 {
			lit := providers.AppendString(nil, text)
			assert.Equal(t, est, providers.EstimateLiteral(lit))
		}
	})
}

func TestStringLeaves(t *testing.T) {
	t.Parallel()
	body := []byte(`{"error":{"message":"bad value 'a\u0041'","code":null,"param":["x",{"y":"z"}],"n":1}}`)
	refs, err := providers.StringLeaves(nil, body, "assistant", providers.TextCompletion)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		b, err := providers.DecodeText(nil, body, r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	want := []string{"bad value 'aA'", "x", "z"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if _, err := providers.StringLeaves(nil, []byte(`{"a":`), "", ""); err == nil {
		t.Fatal("malformed body accepted")
	}
}

func TestOrderRequestRefs(t *testing.T) {
	t.Parallel()
	ref := func(start int, form providers.Form) providers.TextRef {
		return providers.TextRef{Start: start, End: start + 2, Form: form}
	}
	const T, N, U = providers.FormText, providers.FormName, providers.FormURL
	cases := []struct {
		name    string
		in, out []providers.TextRef
	}{
		{"texts only", []providers.TextRef{ref(1, T), ref(5, T)}, []providers.TextRef{ref(1, T), ref(5, T)}},
		{"fields after texts", []providers.TextRef{ref(1, T), ref(3, N), ref(5, T), ref(7, U), ref(9, T)},
			[]providers.TextRef{ref(1, T), ref(5, T), ref(9, T), ref(3, N), ref(7, U)}},
		{"unsorted input", []providers.TextRef{ref(9, T), ref(3, N), ref(1, T)}, []providers.TextRef{ref(1, T), ref(9, T), ref(3, N)}},
		{"fields only", []providers.TextRef{ref(3, N), ref(1, U)}, []providers.TextRef{ref(1, U), ref(3, N)}},
	}
	for _, tc := range cases {
		// A prefix the caller owns is left alone.
		in := append([]providers.TextRef{ref(100, N)}, tc.in...)
		got := providers.OrderRequestRefs(in, 1)
		assert.Equal(t, append([]providers.TextRef{ref(100, N)}, tc.out...), got, tc.name)
	}
}
