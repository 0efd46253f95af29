package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergePatchRFC7386(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		original string
		patch    string
		want     string // exact: key order matters here
	}{
		// RFC 7386 section 3.
		{
			name: "section 3 example",
			original: `{"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
				"tags": ["example", "sample"], "content": "This will be unchanged"}`,
			patch: `{"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": null}, "tags": ["example"]}`,
			want:  `{"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"}`,
		},
		// RFC 7386 appendix A, in order.
		{name: "A1 replace member", original: `{"a":"b"}`, patch: `{"a":"c"}`, want: `{"a":"c"}`},
		{name: "A2 add member", original: `{"a":"b"}`, patch: `{"b":"c"}`, want: `{"a":"b","b":"c"}`},
		{name: "A3 delete member", original: `{"a":"b"}`, patch: `{"a":null}`, want: `{}`},
		{name: "A4 delete one of two", original: `{"a":"b","b":"c"}`, patch: `{"a":null}`, want: `{"b":"c"}`},
		{name: "A5 array replaced by string", original: `{"a":["b"]}`, patch: `{"a":"c"}`, want: `{"a":"c"}`},
		{name: "A6 string replaced by array", original: `{"a":"c"}`, patch: `{"a":["b"]}`, want: `{"a":["b"]}`},
		{name: "A7 nested merge", original: `{"a": {"b": "c"}}`, patch: `{"a": {"b": "d", "c": null}}`, want: `{"a":{"b":"d"}}`},
		{name: "A8 arrays are replaced", original: `{"a": [{"b":"c"}]}`, patch: `{"a": [1]}`, want: `{"a":[1]}`},
		{name: "A9 array patch replaces array", original: `["a","b"]`, patch: `["c","d"]`, want: `["c","d"]`},
		{name: "A10 array patch replaces object", original: `{"a":"b"}`, patch: `["c"]`, want: `["c"]`},
		{name: "A11 null patch", original: `{"a":"foo"}`, patch: `null`, want: `null`},
		{name: "A12 string patch", original: `{"a":"foo"}`, patch: `"bar"`, want: `"bar"`},
		{name: "A13 nulls in the original stay", original: `{"e":null}`, patch: `{"a":1}`, want: `{"e":null,"a":1}`},
		{name: "A14 object patch on array", original: `[1,2]`, patch: `{"a":"b","c":null}`, want: `{"a":"b"}`},
		{name: "A15 nulls in new nested objects dropped", original: `{}`, patch: `{"a":{"bb":{"ccc":null}}}`, want: `{"a":{"bb":{}}}`},
		// Beyond the RFC's table.
		{name: "nulls inside arrays are kept", original: `{}`, patch: `{"a":[null,{"b":null}]}`, want: `{"a":[null,{"b":null}]}`},
		{name: "number literals kept", original: `{"a":1.50,"b":1e3}`, patch: `{"c":-0}`, want: `{"a":1.50,"b":1e3,"c":-0}`},
		{name: "deleting a missing key", original: `{"a":1}`, patch: `{"z":null}`, want: `{"a":1}`},
		{name: "empty patch", original: `{"b":1,"a":2}`, patch: `{}`, want: `{"b":1,"a":2}`},
		{name: "strings re-escaped", original: `{"a":"x\u0001\"\\\n<>&é"}`, patch: `{}`, want: `{"a":"x\u0001\"\\\n<>&é"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := MergePatch([]byte(tc.original), []byte(tc.patch))
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

func TestMergePatchLargeObject(t *testing.T) {
	t.Parallel()
	// Past indexAbove keys, lookups go through a map; order must not change.
	var orig, want []string
	for i := range 40 {
		orig = append(orig, fmt.Sprintf(`"k%02d":%d`, i, i))
		switch {
		case i%3 == 0: // deleted
		case i == 7:
			want = append(want, `"k07":"seven"`)
		default:
			want = append(want, fmt.Sprintf(`"k%02d":%d`, i, i))
		}
	}
	var patch []string
	for i := 0; i < 40; i += 3 {
		patch = append(patch, fmt.Sprintf(`"k%02d":null`, i))
	}
	patch = append(patch, `"new":true`, `"k07":"seven"`, `"k00":null`)
	want = append(want, `"new":true`)

	_, err := MergePatch([]byte("{"+strings.Join(orig, ",")+"}"), []byte("{"+strings.Join(patch, ",")+"}"))
	require.Error(t, err, "k00 appears twice in the patch")

	patch = patch[:len(patch)-1]
	got, err := MergePatch([]byte("{"+strings.Join(orig, ",")+"}"), []byte("{"+strings.Join(patch, ",")+"}"))
	require.NoError(t, err)
	assert.Equal(t, "{"+strings.Join(want, ",")+"}", string(got))
}

func TestMergePatchPolicy(t *testing.T) {
	t.Parallel()
	original := readPolicy(t, "developer.json")
	before := mustParse(t, "developer.json")

	t.Run("budget only", func(t *testing.T) {
		t.Parallel()
		merged, err := MergePatch(original, []byte(`{"max_tokens":100000}`))
		require.NoError(t, err)
		after := mustParseBytes(t, merged)
		assert.Equal(t, int64(100000), after.MaxTokens)

		want := mustParse(t, "developer.json")
		want.MaxTokens = 100000
		stripCompiled(want)
		stripCompiled(after)
		assert.Equal(t, want, after, "nothing but the budget changed")
		assert.Equal(t, []string{"openai", "anthropic"}, groupNames(after.Providers))
	})

	t.Run("adding a group appends it", func(t *testing.T) {
		t.Parallel()
		merged, err := MergePatch(original, []byte(`{"providers":{"groq":[{"base_key_env":"GROQ_API_KEY","model_regex":"^llama"}]}}`))
		require.NoError(t, err)
		after := mustParseBytes(t, merged)
		assert.Equal(t, []string{"openai", "anthropic", "groq"}, groupNames(after.Providers))
		assert.True(t, after.AllowsModel("llama-3"))
		assert.False(t, before.AllowsModel("llama-3"))
	})

	t.Run("removing a group", func(t *testing.T) {
		t.Parallel()
		merged, err := MergePatch(original, []byte(`{"providers":{"openai":null},"retry":null}`))
		require.NoError(t, err)
		after := mustParseBytes(t, merged)
		assert.Equal(t, []string{"anthropic"}, groupNames(after.Providers))
		assert.Nil(t, after.Retry)
	})

	t.Run("patch can make the policy invalid", func(t *testing.T) {
		t.Parallel()
		merged, err := MergePatch(original, []byte(`{"rules":[{"name":"x","type":"keyword","keywords":["a"],"actoin":"warn"}]}`))
		require.NoError(t, err, "merging is not validation")
		_, err = Parse(merged)
		fes := FieldErrors(err)
		require.Len(t, fes, 1)
		assert.Equal(t, "rules[0].actoin", fes[0].Path)
	})
}

func TestMergePatchErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		original string
		patch    string
		want     error
	}{
		{name: "empty original", original: ``, patch: `{}`, want: ErrEmpty},
		{name: "empty patch", original: `{}`, patch: ` `, want: ErrEmpty},
		{name: "broken original", original: `{"a":`, patch: `{}`, want: ErrSyntax},
		{name: "broken patch", original: `{}`, patch: `{"a" 1}`, want: ErrSyntax},
		{name: "trailing data", original: `{}`, patch: `{}{}`, want: ErrSyntax},
		{name: "too large", original: `"` + strings.Repeat("x", MaxSize) + `"`, patch: `{}`, want: ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := MergePatch([]byte(tc.original), []byte(tc.patch))
			assert.ErrorIs(t, err, tc.want)
		})
	}

	t.Run("duplicate key names its path", func(t *testing.T) {
		t.Parallel()
		_, err := MergePatch([]byte(`{}`), []byte(`{"a":{"b":1,"b":2}}`))
		var fe *FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "a.b", fe.Path)
	})
}
