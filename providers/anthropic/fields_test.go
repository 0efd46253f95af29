package anthropic_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
)

type field struct {
	Text string
	Form providers.Form
	Kind string
}

// TestRequestFields: names, URLs, tool input member names, stop sequences
// and metadata are referenced; fields come after the prose texts.
func TestRequestFields(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"m","max_tokens":1,"stop_sequences":["S"],"metadata":{"user_id":"u"},` +
		`"system":[{"type":"text","text":"sys","cache_control":{"type":"ephemeral"}}],` +
		`"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/i.png"}},` +
		`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}},` +
		`{"type":"document","source":{"type":"url","url":"https://x/d.pdf"}}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"get","input":{"k":"v"}}]}],` +
		`"tools":[{"name":"get","input_schema":{"properties":{"p":{}},"required":["p"]}}],"tool_choice":{"type":"tool","name":"get"}}`)
	refs, err := anthropic.RequestTexts(nil, body)
	require.NoError(t, err)
	var got []field
	for _, r := range refs {
		b, err := providers.DecodeText(nil, body, r)
		require.NoError(t, err)
		got = append(got, field{string(b), r.Form, r.Kind})
	}
	assert.Equal(t, []field{
		{"S", providers.FormText, providers.TextMeta},
		{"user_id", providers.FormText, providers.TextMeta},
		{"u", providers.FormText, providers.TextMeta},
		{"sys", providers.FormText, providers.TextSystem},
		{"k", providers.FormText, providers.TextToolArgs}, // tool input: data, any name is valid
		{"v", providers.FormText, providers.TextToolArgs},
	}, got[:6])
	assert.Equal(t, []field{
		{"https://x/i.png", providers.FormURL, providers.TextMessage},
		{"https://x/d.pdf", providers.FormURL, providers.TextMessage},
		{"get", providers.FormName, providers.TextToolArgs},
		{"get", providers.FormName, providers.TextToolDef},
		{"p", providers.FormName, providers.TextToolDef}, // schema keywords are left out
		{"p", providers.FormName, providers.TextToolDef},
		{"tool", providers.FormName, providers.TextToolDef}, // tool_choice's strings
		{"get", providers.FormName, providers.TextToolDef},
	}, got[6:])
}

func TestRequestFieldsRefused(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"base64 document of a text type":  `{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"aGk="}}]}]}`,
		"base64 image of an unknown type": `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/x-123-45-6789","data":"AA=="}}]}]}`,
		"url source holding a data URL":   `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"data:image/tiff;base64,AA=="}}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := anthropic.RequestTexts(nil, []byte(body))
			assert.ErrorIs(t, err, providers.ErrUncheckable)
			_, err = anthropic.ParseRequest([]byte(body))
			assert.NoError(t, err, "pricing does not refuse")
		})
	}
}
