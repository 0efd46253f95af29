package providers_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// walkAll visits every value of a document through the iterators,
// descending into every container, and returns the scanner's verdict.
func walkAll(body []byte) error {
	s := providers.NewScanner(body)
	var visit func()
	visit = func() {
		switch s.Peek() {
		case providers.KindObject:
			obj := s.Object()
			for {
				k, ok := obj.Next()
				if !ok {
					break
				}
				_ = s.Key(k)
				visit()
			}
		case providers.KindArray:
			arr := s.Array()
			for arr.Next() {
				visit()
			}
		default:
			s.Skip()
		}
	}
	visit()
	return s.Finish()
}

// skipAll validates a document with a single Value call.
func skipAll(body []byte) error {
	s := providers.NewScanner(body)
	s.Skip()
	return s.Finish()
}

var validityCases = []struct {
	name string
	body string
}{
	{"empty", ``},
	{"spaces", `   `},
	{"null", `null`},
	{"true", ` true `},
	{"false", `false`},
	{"truncated literal", `tru`},
	{"bad literal", `nul1`},
	{"zero", `0`},
	{"negative", `-12.5e+3`},
	{"leading zero", `012`},
	{"bare minus", `-`},
	{"dot without digits", `1.`},
	{"exponent without digits", `1e`},
	{"plus sign", `+1`},
	{"string", `"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"`},
	{"bad escape", `"\x"`},
	{"short unicode", `"\u12"`},
	{"bad hex", `"\u12g4"`},
	{"control char", "\"a\x01b\""},
	{"raw newline", "\"a\nb\""},
	{"unterminated string", `"abc`},
	{"long string", `"` + strings.Repeat("abcdefgh", 40) + `"`},
	{"long string with escape at end", `"` + strings.Repeat("abcdefgh", 4) + `\n"`},
	{"empty object", `{}`},
	{"empty array", `[ ]`},
	{"nested", `{"a":[1,{"b":null,"c":[true,false]},"x"],"d":{}}`},
	{"trailing comma object", `{"a":1,}`},
	{"trailing comma array", `[1,]`},
	{"leading comma", `[,1]`},
	{"missing colon", `{"a" 1}`},
	{"missing comma", `{"a":1 "b":2}`},
	{"non-string key", `{1:2}`},
	{"mismatched brackets", `[1}`},
	{"unclosed", `{"a":[1,2`},
	{"trailing data", `{} {}`},
	{"trailing garbage", `[1]x`},
	{"whitespace everywhere", " \t\n{ \"a\" :\r\n [ 1 , 2 ] } \n"},
}

func TestScannerValidity(t *testing.T) {
	t.Parallel()
	for _, tc := range validityCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := json.Valid([]byte(tc.body))
			walkErr := walkAll([]byte(tc.body))
			skipErr := skipAll([]byte(tc.body))
			assert.Equal(t, want, walkErr == nil, "walk: %v", walkErr)
			assert.Equal(t, want, skipErr == nil, "skip: %v", skipErr)
			if !want {
				assert.True(t, errors.Is(walkErr, providers.ErrSyntax), "walk error %v", walkErr)
			}
		})
	}
}

func TestScannerDepth(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", providers.MaxDepth+1) + strings.Repeat("]", providers.MaxDepth+1)
	assert.ErrorIs(t, skipAll([]byte(deep)), providers.ErrDepth)
	assert.ErrorIs(t, walkAll([]byte(deep)), providers.ErrDepth)
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	assert.NoError(t, walkAll([]byte(ok)))
}

func TestObjectIteration(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"gpt-4o","mod\u0065l2":"x","skip":{"deep":[1,2,{"a":"b"}]},"n":3,"arr":["p","q"]}`)
	s := providers.NewScanner(body)
	obj := s.Object()
	var keys []string
	var n int64
	var arr []string
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		name := string(s.Key(k))
		keys = append(keys, name)
		switch name {
		case "model":
			assert.Equal(t, "gpt-4o", s.Value().String(body))
		case "n":
			v, err := s.Value().Int(body)
			require.NoError(t, err)
			n = v
		case "arr":
			a := s.Array()
			for a.Next() {
				arr = append(arr, s.Value().String(body))
			}
		}
		// "skip" and "model2" are left unread: Next skips them.
	}
	require.NoError(t, s.Finish())
	assert.Equal(t, []string{"model", "model2", "skip", "n", "arr"}, keys)
	assert.Equal(t, int64(3), n)
	assert.Equal(t, []string{"p", "q"}, arr)
}

func TestObjectUnfinishedNested(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":[1,2,3],"b":1}`)
	s := providers.NewScanner(body)
	obj := s.Object()
	k, ok := obj.Next()
	require.True(t, ok)
	require.Equal(t, "a", string(s.Key(k)))
	arr := s.Array()
	require.True(t, arr.Next()) // abandoned after the first element
	_, ok = obj.Next()
	assert.False(t, ok)
	assert.ErrorIs(t, s.Err(), providers.ErrSyntax)
}

func TestValueAccessors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		body    string
		wantInt int64
		intErr  bool
	}{
		{name: "int", body: `42`, wantInt: 42},
		{name: "negative", body: `-7`, wantInt: -7},
		{name: "integral float", body: `100.0`, wantInt: 100},
		{name: "exponent", body: `1e3`, wantInt: 1000},
		{name: "fraction", body: `1.5`, intErr: true},
		{name: "huge", body: `1e30`, intErr: true},
		{name: "max int64", body: `9223372036854775807`, wantInt: 9223372036854775807},
		{name: "string", body: `"42"`, intErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := providers.NewScanner([]byte(tc.body))
			v := s.Value()
			require.NoError(t, s.Finish())
			n, err := v.Int([]byte(tc.body))
			if tc.intErr {
				assert.ErrorIs(t, err, providers.ErrType)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantInt, n)
		})
	}
}

func TestValueEqual(t *testing.T) {
	t.Parallel()
	body := []byte(`["text","te\u0078t",1,"image_url"]`)
	s := providers.NewScanner(body)
	var vals []providers.Value
	arr := s.Array()
	for arr.Next() {
		vals = append(vals, s.Value())
	}
	require.NoError(t, s.Finish())
	assert.True(t, vals[0].Equal(body, "text"))
	assert.True(t, vals[1].Equal(body, "text"), "escaped form compares decoded")
	assert.False(t, vals[2].Equal(body, "1"), "numbers are not strings")
	assert.False(t, vals[3].Equal(body, "text"))
	b, err := vals[0].Bool()
	assert.ErrorIs(t, err, providers.ErrType)
	assert.False(t, b)
}
