package providers_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// literal returns body holding s as one JSON string and the value of it.
func literal(t testing.TB, raw string) ([]byte, providers.Value) {
	t.Helper()
	body := []byte(raw)
	s := providers.NewScanner(body)
	v := s.Value()
	require.NoError(t, s.Finish())
	require.Equal(t, providers.KindString, v.Kind)
	return body, v
}

func TestDataURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		lit  string
		want providers.DataKind
		err  bool
	}{
		{"https URL", `"https://img.example.net/a.png?x=1"`, providers.DataNone, false},
		{"not a URL at all", `"hello"`, providers.DataNone, false},
		{"png", `"data:image/png;base64,iVBORw0KGgo="`, providers.DataImage, false},
		{"upper-case scheme and type", `"DATA:IMAGE/JPEG;BASE64,/9j/"`, providers.DataImage, false},
		{"pdf", `"data:application/pdf;base64,JVBERi0="`, providers.DataPDF, false},
		{"text with charset", `"data:text/plain;charset=utf-8;base64,aGk="`, providers.DataText, false},
		{"escaped slash (PHP)", `"data:text\/plain;base64,aGk="`, providers.DataText, false},
		{"escaped scheme", `"d\u0061ta:text/plain;base64,aGk="`, providers.DataText, false},
		{"leading space", `" data:text/plain;base64,aGk="`, providers.DataText, false},
		{"not base64", `"data:text/plain,123-45-6789"`, 0, true},
		{"unknown type", `"data:image/123-45-6789;base64,AAAA"`, 0, true},
		{"unknown parameter", `"data:image/png;name=bob@example.com;base64,AAAA"`, 0, true},
		{"no comma", `"data:image/png;base64"`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body, v := literal(t, tc.lit)
			got, err := providers.DataURL(body, v)
			if tc.err {
				assert.ErrorIs(t, err, providers.ErrUncheckable)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestForms: each form decodes to the text the rules read and writes a
// mask back so the field stays valid.
func TestForms(t *testing.T) {
	t.Parallel()
	doc := base64.StdEncoding.EncodeToString([]byte("ssn 123-45-6789\n"))
	cases := []struct {
		name    string
		lit     string
		form    providers.Form
		text    string // what DecodeText yields
		masked  string // the text written back
		written string // the decoded JSON string Splice writes
	}{
		{"name", `"get_123-45-6789"`, providers.FormName, "get_123-45-6789", "get_[REDACTED:SSN]", "get__REDACTED_SSN_"},
		{"url", `"https://x.example/a?o=bob@example.com"`, providers.FormURL, "https://x.example/a?o=bob@example.com",
			"https://x.example/a?o=[REDACTED:EMAIL] é", "https://x.example/a?o=%5BREDACTED:EMAIL%5D%20%C3%A9"},
		{"text document", `"data:text\/plain;charset=utf-8;base64,` + doc + `"`, providers.FormData, "ssn 123-45-6789\n",
			"ssn [REDACTED:SSN]\n", "data:text/plain;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte("ssn [REDACTED:SSN]\n"))},
		{"unpadded document", `"data:text/plain;base64,` + base64.RawStdEncoding.EncodeToString([]byte("hi")) + `"`, providers.FormData, "hi",
			"ho", "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte("ho"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(`{"k":` + tc.lit + `}`)
			ref := providers.TextRef{Start: 5, End: len(body) - 1, Form: tc.form}
			got, err := providers.DecodeText([]byte("prefix"), body, ref)
			require.NoError(t, err)
			assert.Equal(t, "prefix"+tc.text, string(got))
			out, err := providers.Splice(nil, body, []providers.Edit{{Ref: ref, Text: []byte(tc.masked)}})
			require.NoError(t, err)
			var v struct{ K string }
			require.NoError(t, json.Unmarshal(out, &v), "%s", out)
			assert.Equal(t, tc.written, v.K)
		})
	}
}

func TestDataTextMalformed(t *testing.T) {
	t.Parallel()
	body := []byte(`"data:text/plain;base64,@@@@"`)
	_, err := providers.DecodeText(nil, body, providers.TextRef{Start: 0, End: len(body), Form: providers.FormData})
	assert.ErrorIs(t, err, providers.ErrUncheckable)
}

// FuzzDataURL: classification and decoding never panic, a text document
// decodes to what its payload holds, and writing it back round-trips.
func FuzzDataURL(f *testing.F) {
	f.Add(`data:text/plain;base64,aGk=`)
	f.Add(`data:image/png;base64,AAAA`)
	f.Add(`DATA:Text/Plain;Charset=UTF-8;BASE64,aGk`)
	f.Add(`https://x/y`)
	f.Add(`data:,`)
	f.Fuzz(func(t *testing.T, s string) {
		body, err := json.Marshal(s)
		if err != nil {
			return
		}
		sc := providers.NewScanner(body)
		v := sc.Value()
		k, err := providers.DataURL(body, v)
		if err != nil || k != providers.DataText {
			return
		}
		ref := providers.TextRef{Start: v.Start, End: v.End, Form: providers.FormData}
		text, err := providers.DecodeText(nil, body, ref)
		if err != nil {
			return // a malformed payload: refused by the proxy
		}
		out, err := providers.Splice(nil, body, []providers.Edit{{Ref: ref, Text: text}})
		require.NoError(t, err)
		again, err := providers.DecodeText(nil, out, providers.TextRef{Start: 0, End: len(out), Form: providers.FormData})
		require.NoError(t, err)
		assert.Equal(t, text, again)
	})
}
