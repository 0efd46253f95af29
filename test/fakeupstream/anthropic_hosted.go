package fakeupstream

import "encoding/base64"

// The [[fake:hosted]] directive on /v1/messages makes the answer a web
// search's, as Anthropic's web_search server tool gives it, so a test can
// see whether the proxy's output rules read every text of it: a
// server_tool_use block (its query: the reply), a web_search_tool_result
// block (one result whose title is the reply, with the source URL and
// opaque encrypted_content), then the text block carrying two citations:
// a web_search_result_location (cited_text and title: the reply, url, an
// opaque encrypted_index) and a char_location (cited_text and
// document_title: the reply). A stream sends the query in input_json_delta
// fragments, the result block whole in its content_block_start, and each
// citation in a citations_delta before the text deltas, in the order the
// Messages API streams them.

// hostedBlocks is how many content blocks precede the text block.
const hostedBlocks = 2

// opaque stands in for the API's encrypted fields: base64 bytes that are
// no text.
var opaque = base64.StdEncoding.EncodeToString([]byte("fake encrypted index bytes"))

// textBlockIndex is the text (or tool_use) block's index.
func (x *exchange) textBlockIndex() int {
	if x.p.dir.hosted && x.p.ToolName == "" {
		return hostedBlocks
	}
	return 0
}

// appendServerToolUse appends the server_tool_use block; input is false for
// a stream's content_block_start (the query follows in deltas).
func (x *exchange) appendServerToolUse(b []byte, input bool) []byte {
	b = append(b, `{"type":"server_tool_use","id":`...)
	b = x.appendID(b, "srvtoolu_")
	b = append(b, `,"name":"web_search","input":`...)
	if !input {
		return append(b, `{}}`...)
	}
	b = append(b, `{"query":`...)
	b = appendStr(b, x.p.Text)
	return append(b, `}}`...)
}

// webSearchQuery is the server tool's input JSON, streamed in fragments.
func (x *exchange) webSearchQuery() string {
	return string(appendStr([]byte(`{"query":`), x.p.Text)) + "}"
}

// appendWebSearchResult appends the web_search_tool_result block.
func (x *exchange) appendWebSearchResult(b []byte) []byte {
	b = append(b, `{"type":"web_search_tool_result","tool_use_id":`...)
	b = x.appendID(b, "srvtoolu_")
	b = append(b, `,"content":[{"type":"web_search_result","url":`...)
	b = appendStr(b, hostedSourceURL(x.p.Text))
	b = append(b, `,"title":`...)
	b = appendStr(b, x.p.Text)
	b = append(b, `,"encrypted_content":`...)
	b = appendStr(b, opaque)
	return append(b, `,"page_age":null}]}`...)
}

// appendAnthropicCitation appends citation i (0: web search, 1: document).
func (x *exchange) appendAnthropicCitation(b []byte, i int) []byte {
	text := x.p.Text
	if i == 0 {
		b = append(b, `{"type":"web_search_result_location","cited_text":`...)
		b = appendStr(b, text)
		b = append(b, `,"url":`...)
		b = appendStr(b, hostedSourceURL(text))
		b = append(b, `,"title":`...)
		b = appendStr(b, text)
		b = append(b, `,"encrypted_index":`...)
		b = appendStr(b, opaque)
		return append(b, '}')
	}
	b = append(b, `{"type":"char_location","cited_text":`...)
	b = appendStr(b, text)
	b = append(b, `,"document_index":0,"document_title":`...)
	b = appendStr(b, text)
	b = append(b, `,"start_char_index":0,"end_char_index":`...)
	b = appendInt(b, len(text))
	return append(b, '}')
}

// appendCitations appends the text block's citations array.
func (x *exchange) appendCitations(b []byte) []byte {
	b = append(b, `"citations":[`...)
	b = x.appendAnthropicCitation(b, 0)
	b = append(b, ',')
	b = x.appendAnthropicCitation(b, 1)
	return append(b, ']')
}

// hostedMessagesEvents streams the two server tool blocks (indexes 0 and 1).
func (x *exchange) hostedMessagesEvents(send func(string, func([]byte) []byte) error) error {
	err := send("content_block_start", func(b []byte) []byte {
		b = append(b, `,"index":0,"content_block":`...)
		return x.appendServerToolUse(b, false)
	})
	if err != nil {
		return err
	}
	for piece := range pieces(x.webSearchQuery()) {
		err := send("content_block_delta", func(b []byte) []byte {
			b = append(b, `,"index":0,"delta":{"type":"input_json_delta","partial_json":`...)
			b = appendStr(b, piece)
			return append(b, '}')
		})
		if err != nil {
			return err
		}
	}
	if err := send("content_block_stop", func(b []byte) []byte { return append(b, `,"index":0`...) }); err != nil {
		return err
	}
	err = send("content_block_start", func(b []byte) []byte {
		b = append(b, `,"index":1,"content_block":`...)
		return x.appendWebSearchResult(b)
	})
	if err != nil {
		return err
	}
	return send("content_block_stop", func(b []byte) []byte { return append(b, `,"index":1`...) })
}

// citationDeltas streams the text block's citations, one event each.
func (x *exchange) citationDeltas(send func(string, func([]byte) []byte) error) error {
	for i := range 2 {
		err := send("content_block_delta", func(b []byte) []byte {
			b = append(b, `,"index":`...)
			b = appendInt(b, hostedBlocks)
			b = append(b, `,"delta":{"type":"citations_delta","citation":`...)
			b = x.appendAnthropicCitation(b, i)
			return append(b, '}')
		})
		if err != nil {
			return err
		}
	}
	return nil
}
