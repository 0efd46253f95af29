package providers_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
)

var ssnRE = regexp.MustCompile(`\d{3}-\d{2}-\d{4}`)

// maskSSNs masks every SSN in body's strings as the proxy does: member
// names and a schema's required entries in name form, other strings as
// text.
func maskSSNs(t testing.TB, body []byte) []providers.Edit {
	t.Helper()
	var edits []providers.Edit
	s := providers.NewScanner(body)
	add := func(v providers.Value, form providers.Form) {
		text, err := providers.DecodeText(nil, body, providers.TextRef{Start: v.Start, End: v.End})
		require.NoError(t, err)
		if ssnRE.Match(text) {
			edits = append(edits, providers.Edit{Ref: providers.TextRef{Start: v.Start, End: v.End, Form: form},
				Text: ssnRE.ReplaceAll(text, []byte("[REDACTED:ssn]"))})
		}
	}
	var walk func(form providers.Form)
	walk = func(form providers.Form) {
		switch s.Peek() {
		case providers.KindString:
			add(s.Value(), form)
		case providers.KindObject:
			obj := s.Object()
			for {
				k, ok := obj.Next()
				if !ok {
					break
				}
				add(k, providers.FormName)
				switch string(s.Key(k)) {
				case "required", "name":
					walk(providers.FormName) // as the proxy reads tool names
				default:
					walk(providers.FormText)
				}
			}
		case providers.KindArray:
			arr := s.Array()
			for arr.Next() {
				walk(form)
			}
		default:
			s.Skip()
		}
	}
	walk(providers.FormText)
	require.NoError(t, s.Finish())
	return edits
}

// checkNames fails when an object of doc repeats a member name or a
// schema's required entry names no property of it.
func checkNames(t testing.TB, doc []byte) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	var value func() any
	value = func() any {
		tok, err := dec.Token()
		require.NoError(t, err, "%s", doc)
		switch tok {
		case json.Delim('{'):
			seen := map[string]any{}
			for dec.More() {
				k, err := dec.Token()
				require.NoError(t, err)
				name := k.(string)
				_, dup := seen[name]
				require.False(t, dup, "repeated member %q in %s", name, doc)
				seen[name] = value()
			}
			_, _ = dec.Token()
			if props, ok := seen["properties"].(map[string]any); ok {
				req, _ := seen["required"].([]any)
				for _, r := range req {
					_, ok := props[r.(string)]
					assert.True(t, ok, "required %q names no property in %s", r, doc)
				}
			}
			return seen
		case json.Delim('['):
			var out []any
			for dec.More() {
				out = append(out, value())
			}
			_, _ = dec.Token()
			return out
		}
		return tok
	}
	value()
}

func TestSpliceUniqueNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		want string // "" when only checkNames applies
	}{
		{"two properties mask alike", `{"type":"object","properties":{"ssn_123-45-6789":{"type":"string"},"ssn_987-65-4321":{"type":"string"}},"required":["ssn_123-45-6789","ssn_987-65-4321"]}`,
			`{"type":"object","properties":{"ssn__REDACTED_ssn_":{"type":"string"},"ssn__REDACTED_ssn__2":{"type":"string"}},"required":["ssn__REDACTED_ssn_","ssn__REDACTED_ssn__2"]}`},
		{"required first, in another order", `{"required":["b 987-65-4321","b 123-45-6789"],"properties":{"b 123-45-6789":{},"b 987-65-4321":{}}}`,
			`{"required":["b__REDACTED_ssn__2","b__REDACTED_ssn_"],"properties":{"b__REDACTED_ssn_":{},"b__REDACTED_ssn__2":{}}}`},
		{"a mask meets a name the object has", `{"properties":{"x__REDACTED_ssn_":{},"x 123-45-6789":{}},"required":["x 123-45-6789","x__REDACTED_ssn_"]}`,
			`{"properties":{"x__REDACTED_ssn_":{},"x__REDACTED_ssn__2":{}},"required":["x__REDACTED_ssn__2","x__REDACTED_ssn_"]}`},
		{"suffix taken too", `{"properties":{"k__REDACTED_ssn__2":{},"k 111-22-3333":{},"k_222-33-4444":{}}}`,
			`{"properties":{"k__REDACTED_ssn__2":{},"k__REDACTED_ssn_":{},"k__REDACTED_ssn__3":{}}}`},
		{"nested schemas each on their own", `{"properties":{"o":{"type":"object","properties":{"p 123-45-6789":{},"p 987-65-4321":{}},"required":["p 987-65-4321"]},"p 123-45-6789":{}}}`,
			`{"properties":{"o":{"type":"object","properties":{"p__REDACTED_ssn_":{},"p__REDACTED_ssn__2":{}},"required":["p__REDACTED_ssn__2"]},"p__REDACTED_ssn_":{}}}`},
		{"tool input member names", `{"input":{"123-45-6789":"a","987-65-4321":"b","111-22-3333":"c"}}`,
			`{"input":{"_REDACTED_ssn_":"a","_REDACTED_ssn__2":"b","_REDACTED_ssn__3":"c"}}`},
		{"escaped names", `{"properties":{"\u0073sn 123-45-6789":{},"ssn 987-65-4321":{}},"required":["ss\u006e 987-65-4321"]}`,
			`{"properties":{"ssn__REDACTED_ssn_":{},"ssn__REDACTED_ssn__2":{}},"required":["ssn__REDACTED_ssn__2"]}`},
		{"one masked name changes nothing", `{"properties":{"a 123-45-6789":{}},"required":["a 123-45-6789"]}`,
			`{"properties":{"a__REDACTED_ssn_":{}},"required":["a__REDACTED_ssn_"]}`},
		{"values alike stay alike", `{"a":"123-45-6789","b":"987-65-4321"}`, `{"a":"[REDACTED:ssn]","b":"[REDACTED:ssn]"}`},
		{"one masked name meets the object's", `{"properties":{"x__REDACTED_ssn_":{},"x 123-45-6789":{}}}`,
			`{"properties":{"x__REDACTED_ssn_":{},"x__REDACTED_ssn__2":{}}}`},
		{"tool names apart, calls follow", `{"tools":[{"name":"f 123-45-6789"},{"name":"f 234-56-7891"}],"tool_choice":{"name":"f 234-56-7891"},"messages":[{"tool_calls":[{"function":{"name":"f 123-45-6789"}},{"function":{"name":"f 234-56-7891"}}]}]}`,
			`{"tools":[{"name":"f__REDACTED_ssn_"},{"name":"f__REDACTED_ssn__2"}],"tool_choice":{"name":"f__REDACTED_ssn__2"},"messages":[{"tool_calls":[{"function":{"name":"f__REDACTED_ssn_"}},{"function":{"name":"f__REDACTED_ssn__2"}}]}]}`},
		{"names alike in different objects", `[{"123-45-6789":1},{"987-65-4321":2}]`, `[{"_REDACTED_ssn_":1},{"_REDACTED_ssn_":2}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tc.body)
			out, err := providers.Splice(nil, body, maskSSNs(t, body))
			require.NoError(t, err)
			checkNames(t, out)
			if tc.want != "" {
				assert.Equal(t, tc.want, string(out))
			}
		})
	}
}

// FuzzSpliceUniqueNames: schemas of many properties, some of whose names
// carry SSNs that mask alike, some already spelt like a mask; the masked
// body never repeats a member and its required entries follow the names.
func FuzzSpliceUniqueNames(f *testing.F) {
	f.Add(uint64(1), uint8(4))
	f.Add(uint64(0xdeadbeef), uint8(12))
	f.Add(uint64(7), uint8(30))
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		x := seed | 1
		next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
		var props, req []string
		for i := range int(n%40) + 1 {
			var name string
			switch next() % 4 {
			case 0:
				name = fmt.Sprintf("f %03d-%02d-%04d", next()%1000, next()%100, next()%10000)
			case 1:
				name = "f__REDACTED_ssn_" + []string{"", "_2", "_3", "_10"}[next()%4]
			case 2:
				name = fmt.Sprintf("f%d", i)
			default:
				name = fmt.Sprintf("%03d-%02d-%04d", next()%1000, next()%100, next()%10000)
			}
			q, _ := json.Marshal(name)
			dup := false
			for _, p := range props {
				dup = dup || p == string(q)
			}
			if dup {
				continue
			}
			props = append(props, string(q))
			if next()%2 == 0 {
				req = append(req, string(q))
			}
		}
		var b strings.Builder
		b.WriteString(`{"type":"object","properties":{`)
		for i, p := range props {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p + `:{"type":"string"}`)
		}
		b.WriteString(`},"required":[` + strings.Join(req, ",") + `]}`)
		body := []byte(b.String())
		out, err := providers.Splice(nil, body, maskSSNs(t, body))
		require.NoError(t, err)
		checkNames(t, out)
		var doc struct {
			Properties map[string]any `json:"properties"`
		}
		require.NoError(t, json.Unmarshal(out, &doc))
		assert.Len(t, doc.Properties, len(props), "every property kept: %s", out)
	})
}
