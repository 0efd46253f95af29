package fakeupstream

const fingerprint = `"fp_fakeupstream"`

func (x *exchange) finishReason() string {
	switch {
	case x.p.ToolName != "":
		return `"tool_calls"`
	case x.p.Truncated:
		return `"length"`
	}
	return `"stop"`
}

// chat answers POST /v1/chat/completions.
func (x *exchange) chat() {
	if x.c.stream {
		x.chatStream()
		return
	}
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"id":`...)
	b = x.appendID(b, "chatcmpl-")
	b = append(b, `,"object":"chat.completion","created":`...)
	b = appendInt(b, int(x.created))
	b = append(b, `,"model":`...)
	b = appendStr(b, x.c.model)
	b = append(b, `,"choices":[`...)
	for i := range x.p.Choices {
		if i > 0 {
			b = append(b, ',')
		}
		b = x.appendChatChoice(b, i)
	}
	b = append(b, ']')
	if !x.p.dir.nousage {
		b = append(b, `,"usage":`...)
		b = x.appendOpenAIUsage(b)
	}
	b = append(b, `,"service_tier":"default","system_fingerprint":`+fingerprint+`}`...)
	*bp = b
	x.writeJSON(b)
}

// appendChatChoice appends choice i of a chat answer (every choice says
// the same).
func (x *exchange) appendChatChoice(b []byte, i int) []byte {
	b = append(b, `{"index":`...)
	b = appendInt(b, i)
	b = append(b, `,"message":{"role":"assistant","content":`...)
	if x.p.ToolName != "" {
		b = append(b, `null,"tool_calls":[{"id":`...)
		b = x.appendID(b, "call_")
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendStr(b, x.p.ToolName)
		b = append(b, `,"arguments":`...)
		b = appendStr(b, x.p.Text)
		b = append(b, `}}]`...)
	} else {
		b = appendStr(b, x.p.Text)
	}
	b = append(b, `,"refusal":null,"annotations":[`...)
	if x.p.dir.hosted {
		b = x.appendChatCitation(b)
	}
	b = append(b, `]},"logprobs":null,"finish_reason":`...)
	b = append(b, x.finishReason()...)
	return append(b, '}')
}

// appendChatCitation appends chat's web search citation of the answer:
// {"type":"url_citation","url_citation":{...}}.
func (x *exchange) appendChatCitation(b []byte) []byte {
	b = append(b, `{"type":"url_citation","url_citation":{"start_index":0,"end_index":`...)
	b = appendInt(b, len(x.p.Text))
	b = append(b, `,"url":`...)
	b = appendStr(b, hostedSourceURL(x.p.Text))
	b = append(b, `,"title":`...)
	b = appendStr(b, x.p.Text)
	return append(b, `}}`...)
}

// chatStream sends chat.completion.chunk frames: the role, one delta per
// token, the finish reason, the usage chunk only when asked for, [DONE].
func (x *exchange) chatStream() {
	st := x.startStream()
	defer st.close()

	head := make([]byte, 0, 160)
	head = append(head, `{"id":`...)
	head = x.appendID(head, "chatcmpl-")
	head = append(head, `,"object":"chat.completion.chunk","created":`...)
	head = appendInt(head, int(x.created))
	head = append(head, `,"model":`...)
	head = appendStr(head, x.c.model)
	head = append(head, `,"service_tier":"default","system_fingerprint":`+fingerprint+`,"choices":[`...)
	tail := `]}`
	if x.c.includeUsage {
		tail = `],"usage":null}`
	}
	send := func(choice func(b []byte) []byte) error {
		b := appendData(st.begin())
		b = append(b, head...)
		b = choice(b)
		b = append(b, tail...)
		return st.emit(endFrame(b))
	}
	const closeDelta = `,"logprobs":null,"finish_reason":null}`
	tool := x.p.ToolName != ""
	// Choices one after another, each complete: a client must sort the
	// deltas by index, as with OpenAI's interleaved ones.
	limit, sent := x.cutLimit(CountTokens(x.p.Text)), 0
	for ci := range x.p.Choices {
		open := func(b []byte) []byte {
			b = append(b, `{"index":`...)
			b = appendInt(b, ci)
			return append(b, `,"delta":`...)
		}
		err := send(func(b []byte) []byte {
			b = open(b)
			if !tool {
				return append(b, `{"role":"assistant","content":"","refusal":null}`+closeDelta...)
			}
			b = append(b, `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":`...)
			b = x.appendID(b, "call_")
			b = append(b, `,"type":"function","function":{"name":`...)
			b = appendStr(b, x.p.ToolName)
			return append(b, `,"arguments":""}}]}`+closeDelta...)
		})
		if err != nil {
			return
		}
		for piece := range pieces(x.p.Text) {
			if sent == limit {
				st.abort()
			}
			err := send(func(b []byte) []byte {
				b = open(b)
				if tool {
					b = append(b, `{"tool_calls":[{"index":0,"function":{"arguments":`...)
					b = appendStr(b, piece)
					return append(b, `}}]}`+closeDelta...)
				}
				b = append(b, `{"content":`...)
				b = appendStr(b, piece)
				return append(b, `}`+closeDelta...)
			})
			if err != nil {
				return
			}
			sent++
		}
		if sent == limit {
			st.abort()
		}
		if x.p.dir.hosted && !tool {
			// A web search model streams its citations in a delta of
			// their own after the text, the same url_citation objects
			// a whole answer's message carries.
			err = send(func(b []byte) []byte {
				b = open(b)
				b = append(b, `{"annotations":[`...)
				b = x.appendChatCitation(b)
				return append(b, `]}`+closeDelta...)
			})
			if err != nil {
				return
			}
		}
		err = send(func(b []byte) []byte {
			b = open(b)
			b = append(b, `{},"logprobs":null,"finish_reason":`...)
			b = append(b, x.finishReason()...)
			return append(b, '}')
		})
		if err != nil {
			return
		}
	}
	if x.c.includeUsage && !x.p.dir.nousage {
		b := appendData(st.begin())
		b = append(b, head...)
		b = append(b, `],"usage":`...)
		b = x.appendOpenAIUsage(b)
		if st.emit(endFrame(append(b, '}'))) != nil {
			return
		}
	}
	_ = st.emit(append(st.begin(), "data: [DONE]\n\n"...))
}
