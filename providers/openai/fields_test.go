package openai_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// field is a decoded ref with its form.
type field struct {
	Text string
	Form providers.Form
}

// fields returns the refs after the prose texts: names, URLs, documents.
func fields(t *testing.T, body []byte, refs []providers.TextRef) []field {
	t.Helper()
	var out []field
	seenField := false
	for _, r := range refs {
		if r.Form == providers.FormText {
			require.False(t, seenField, "a prose text after the fields: %+v", r)
			continue
		}
		seenField = true
		b, err := providers.DecodeText(nil, body, r)
		require.NoError(t, err)
		out = append(out, field{string(b), r.Form})
	}
	return out
}

// texts returns the decoded texts of a kind.
func textsOf(t *testing.T, body []byte, refs []providers.TextRef, kind string) []string {
	t.Helper()
	var out []string
	for _, r := range refs {
		if r.Kind == kind {
			b, err := providers.DecodeText(nil, body, r)
			require.NoError(t, err)
			out = append(out, string(b))
		}
	}
	return out
}

// TestRequestFields: the fields besides prose that reach the provider are
// referenced in their form, after the texts, in body order.
func TestRequestFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		endpoint openai.Endpoint
		body     string
		fields   []field
		meta     []string
	}{
		{
			name:     "chat",
			endpoint: openai.Chat,
			body: `{"model":"m","messages":[{"role":"user","name":"ann","content":[{"type":"text","text":"t"},` +
				`{"type":"image_url","image_url":{"url":"https://x/a.png","detail":"low"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},` +
				`{"type":"file","file":{"filename":"n.txt","file_data":"data:text/plain;base64,aGk="}},{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE"}}]},` +
				`{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"get","arguments":"{}"}}]}],` +
				`"tools":[{"type":"function","function":{"name":"get","parameters":{"properties":{"p":{}},"required":["p"]}}}],` +
				`"tool_choice":{"type":"function","function":{"name":"get"}},"stop":["S1","S2"],"user":"u","metadata":{"k":"v"},` +
				`"prompt_cache_key":"ck","web_search_options":{"user_location":{"approximate":{"city":"Ulm"}}}}`,
			fields: []field{
				{"ann", providers.FormName}, {"https://x/a.png", providers.FormURL}, {"n.txt", providers.FormName}, {"hi", providers.FormData},
				{"get", providers.FormName}, {"get", providers.FormName}, {"p", providers.FormName}, {"p", providers.FormName},
				{"function", providers.FormName}, {"get", providers.FormName}, // tool_choice's strings
			},
			meta: []string{"S1", "S2", "u", "k", "v", "ck", "user_location", "approximate", "city", "Ulm"},
		},
		{
			name:     "responses",
			endpoint: openai.Responses,
			body: `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/i"},` +
				`{"type":"input_file","filename":"f.md","file_data":"data:text/markdown;base64,aGk=","file_url":"https://x/f"}]},` +
				`{"type":"function_call","call_id":"c","name":"get","arguments":"{}"}],"tools":[{"type":"function","name":"get","parameters":{}}],` +
				`"tool_choice":{"type":"function","name":"get"},"safety_identifier":"sid","text":{"format":{"type":"json_schema","name":"fmt","schema":{}}}}`,
			fields: []field{
				{"https://x/i", providers.FormURL}, {"f.md", providers.FormName}, {"hi", providers.FormData}, {"https://x/f", providers.FormURL},
				{"get", providers.FormName}, {"get", providers.FormName}, {"function", providers.FormName}, {"get", providers.FormName},
				{"fmt", providers.FormName},
			},
			meta: []string{"sid"},
		},
		{
			name:     "completions",
			endpoint: openai.Completions,
			body:     `{"model":"m","prompt":"p","stop":"S","user":"u"}`,
			meta:     []string{"S", "u"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tc.body)
			refs, err := openai.RequestTexts(nil, body, tc.endpoint)
			require.NoError(t, err)
			assert.Equal(t, tc.fields, fields(t, body, refs))
			assert.Equal(t, tc.meta, textsOf(t, body, refs, providers.TextMeta))
			// Pricing is unchanged: the walker for the estimate reads no field.
			_, err = openai.ParseRequest(body, tc.endpoint)
			require.NoError(t, err)
		})
	}
}

// TestRequestFieldsRefused: content the rules cannot read fails the walk
// with ErrUncheckable; the estimate does not look (requests without input
// rules are forwarded as before).
func TestRequestFieldsRefused(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"image of an unknown type":  `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AAAA"}}]}]}`,
		"text data URL not base64":  `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:text/plain,hello"}}]}]}`,
		"raw base64 file data":      `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"aGk="}}]}]}`,
		"responses file of unknown": `{"input":[{"role":"user","content":[{"type":"input_file","file_data":"data:application/zip;base64,UEs="}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ep := openai.Chat
			if body[2] == 'i' {
				ep = openai.Responses
			}
			_, err := openai.RequestTexts(nil, []byte(body), ep)
			assert.ErrorIs(t, err, providers.ErrUncheckable)
			_, err = openai.ParseRequest([]byte(body), ep)
			assert.NoError(t, err)
		})
	}
}
