package openai_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// toolsBody is a chat request with 8 tool definitions of 6 properties
// each, an image URL and a short conversation: the fields the content
// rules read besides prose (names, schema member names, URLs).
func toolsBody() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"gpt-4o","user":"u-1","messages":[{"role":"system","content":"You are a helpful assistant."},` +
		`{"role":"user","content":[{"type":"text","text":"What is on this picture?"},{"type":"image_url","image_url":{"url":"https://img.example.net/a.png"}}]},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"tool_0","arguments":"{\"p0\":\"x\"}"}}]},` +
		`{"role":"tool","tool_call_id":"c1","content":"42"}],"tools":[`)
	for i := range 8 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"function","function":{"name":"tool_` + strconv.Itoa(i) + `","description":"Looks something up in the index.","parameters":{"type":"object","properties":{`)
		for j := range 6 {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"p` + strconv.Itoa(j) + `":{"type":"string","description":"A parameter."}`)
		}
		b.WriteString(`},"required":["p0"]}}}`)
	}
	b.WriteString(`],"tool_choice":"auto"}`)
	return []byte(b.String())
}

func BenchmarkRequestTextsTools(b *testing.B) {
	body := toolsBody()
	var refs []providers.TextRef
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var err error
		if refs, err = openai.RequestTexts(refs[:0], body, openai.Chat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRequestTools(b *testing.B) {
	body := toolsBody()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := openai.ParseRequest(body, openai.Chat); err != nil {
			b.Fatal(err)
		}
	}
}
