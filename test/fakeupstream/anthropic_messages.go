package fakeupstream

func (x *exchange) stopReason() string {
	switch {
	case x.p.ToolName != "":
		return `"tool_use"`
	case x.p.Truncated:
		return `"max_tokens"`
	}
	return `"end_turn"`
}

// messages answers Anthropic's POST /v1/messages.
func (x *exchange) messages() {
	if x.c.stream {
		x.messagesStream()
		return
	}
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"id":`...)
	b = x.appendID(b, "msg_")
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = appendStr(b, x.c.model)
	b = append(b, `,"content":[`...)
	if x.p.ToolName != "" {
		b = append(b, `{"type":"tool_use","id":`...)
		b = x.appendID(b, "toolu_")
		b = append(b, `,"name":`...)
		b = appendStr(b, x.p.ToolName)
		b = append(b, `,"input":`...)
		b = append(b, x.p.Text...) // already a JSON object
		b = append(b, '}')
	} else {
		hosted := x.p.dir.hosted
		if hosted {
			b = x.appendServerToolUse(b, true)
			b = append(b, ',')
			b = x.appendWebSearchResult(b)
			b = append(b, ',')
		}
		b = append(b, `{"type":"text","text":`...)
		b = appendStr(b, x.p.Text)
		if hosted {
			b = append(b, ',')
			b = x.appendCitations(b)
		}
		b = append(b, '}')
	}
	b = append(b, `],"stop_reason":`...)
	b = append(b, x.stopReason()...)
	b = append(b, `,"stop_sequence":null`...)
	if !x.p.dir.nousage {
		b = append(b, `,"usage":`...)
		b = x.appendAnthropicUsage(b, x.p.CompletionTokens)
	}
	b = append(b, '}')
	*bp = b
	x.writeJSON(b)
}

// messagesStream sends Anthropic's event sequence: message_start (usage with
// input tokens and output_tokens 1), content_block_start, ping, one
// content_block_delta per token, content_block_stop, message_delta (stop
// reason, cumulative output_tokens), message_stop.
func (x *exchange) messagesStream() {
	st := x.startStream()
	defer st.close()
	send := func(name string, fields func(b []byte) []byte) error {
		b := appendEvent(st.begin(), name)
		b = append(b, `{"type":"`...)
		b = append(b, name...)
		b = append(b, '"')
		if fields != nil {
			b = fields(b)
		}
		return st.emit(endFrame(append(b, '}')))
	}
	usage := !x.p.dir.nousage
	err := send("message_start", func(b []byte) []byte {
		b = append(b, `,"message":{"id":`...)
		b = x.appendID(b, "msg_")
		b = append(b, `,"type":"message","role":"assistant","model":`...)
		b = appendStr(b, x.c.model)
		b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null`...)
		if usage {
			b = append(b, `,"usage":`...)
			b = x.appendAnthropicUsage(b, 1)
		}
		return append(b, '}')
	})
	if err != nil {
		return
	}
	tool := x.p.ToolName != ""
	hosted := x.p.dir.hosted && !tool
	if hosted && x.hostedMessagesEvents(send) != nil {
		return
	}
	idx := x.textBlockIndex()
	err = send("content_block_start", func(b []byte) []byte {
		b = append(b, `,"index":`...)
		b = appendInt(b, idx)
		b = append(b, `,"content_block":`...)
		if !tool {
			return append(b, `{"type":"text","text":""}`...)
		}
		b = append(b, `{"type":"tool_use","id":`...)
		b = x.appendID(b, "toolu_")
		b = append(b, `,"name":`...)
		b = appendStr(b, x.p.ToolName)
		return append(b, `,"input":{}}`...)
	})
	if err != nil || send("ping", nil) != nil {
		return
	}
	if hosted && x.citationDeltas(send) != nil {
		return
	}
	limit, sent := x.cutLimit(CountTokens(x.p.Text)), 0
	for piece := range pieces(x.p.Text) {
		if sent == limit {
			st.abort()
		}
		err := send("content_block_delta", func(b []byte) []byte {
			b = append(b, `,"index":`...)
			b = appendInt(b, idx)
			if tool {
				b = append(b, `,"delta":{"type":"input_json_delta","partial_json":`...)
			} else {
				b = append(b, `,"delta":{"type":"text_delta","text":`...)
			}
			b = appendStr(b, piece)
			return append(b, '}')
		})
		if err != nil {
			return
		}
		sent++
	}
	if sent == limit {
		st.abort()
	}
	if send("content_block_stop", func(b []byte) []byte { b = append(b, `,"index":`...); return appendInt(b, idx) }) != nil {
		return
	}
	err = send("message_delta", func(b []byte) []byte {
		b = append(b, `,"delta":{"stop_reason":`...)
		b = append(b, x.stopReason()...)
		b = append(b, `,"stop_sequence":null}`...)
		if usage {
			b = append(b, `,"usage":{"output_tokens":`...)
			b = appendInt(b, x.p.CompletionTokens)
			b = append(b, '}')
		}
		return b
	})
	if err != nil {
		return
	}
	_ = send("message_stop", nil)
}
