package anthropic_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
)

// toolsBody is a Messages request with 8 tool definitions of 6 properties
// each, an image URL, a tool round trip, stop sequences and metadata.
func toolsBody() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"claude-sonnet-4-6","max_tokens":1024,"stop_sequences":["END"],"metadata":{"user_id":"u-1"},"system":"You are a helpful assistant.","messages":[` +
		`{"role":"user","content":[{"type":"text","text":"What is on this picture?"},{"type":"image","source":{"type":"url","url":"https://img.example.net/a.png"}}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"tool_0","input":{"p0":"x","p1":"y"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"42"}]}],"tools":[`)
	for i := range 8 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"tool_` + strconv.Itoa(i) + `","description":"Looks something up in the index.","input_schema":{"type":"object","properties":{`)
		for j := range 6 {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"p` + strconv.Itoa(j) + `":{"type":"string","description":"A parameter."}`)
		}
		b.WriteString(`},"required":["p0"]}}`)
	}
	b.WriteString(`],"tool_choice":{"type":"auto"}}`)
	return []byte(b.String())
}

func BenchmarkRequestTextsTools(b *testing.B) {
	body := toolsBody()
	var refs []providers.TextRef
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var err error
		if refs, err = anthropic.RequestTexts(refs[:0], body); err != nil {
			b.Fatal(err)
		}
	}
}
