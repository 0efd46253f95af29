package fakeupstream

// Responses API object states.
const (
	stInProgress = "in_progress"
	stCompleted  = "completed"
	stIncomplete = "incomplete"
)

func (x *exchange) responseStatus() string {
	if x.p.Truncated {
		return stIncomplete
	}
	return stCompleted
}

// appendResponse appends the response object. An in-progress object has no
// output and null usage; a final one carries the output item and usage.
func (x *exchange) appendResponse(b []byte, status string) []byte {
	final := status != stInProgress
	b = append(b, `{"id":`...)
	b = x.appendID(b, "resp_")
	b = append(b, `,"object":"response","created_at":`...)
	b = appendInt(b, int(x.created))
	b = append(b, `,"status":"`...)
	b = append(b, status...)
	b = append(b, `","background":false,"error":null,"incomplete_details":`...)
	if status == stIncomplete {
		b = append(b, `{"reason":"max_output_tokens"}`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"instructions":`...)
	if x.c.instructions != nil {
		b = appendStr(b, *x.c.instructions)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"max_output_tokens":`...)
	if x.c.maxOutputTokens != nil {
		b = appendInt(b, *x.c.maxOutputTokens)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"model":`...)
	b = appendStr(b, x.c.model)
	b = append(b, `,"output":[`...)
	if final {
		if x.p.dir.hosted {
			b = x.appendHostedItems(b)
		}
		b = x.appendOutputItem(b, true)
	}
	b = append(b, `],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":`...)
	if len(x.c.toolsRaw) > 0 {
		b = append(b, x.c.toolsRaw...)
	} else {
		b = append(b, "[]"...)
	}
	b = append(b, `,"top_p":1.0,"truncation":"disabled","usage":`...)
	if final && !x.p.dir.nousage {
		b = x.appendResponsesUsage(b)
	} else {
		b = append(b, "null"...)
	}
	return append(b, `,"user":null,"metadata":{}}`...)
}

// appendOutputItem appends the message or function_call item, finished or
// just started (empty content or arguments).
func (x *exchange) appendOutputItem(b []byte, done bool) []byte {
	status := stInProgress
	if done {
		status = x.responseStatus()
	}
	if x.p.ToolName != "" {
		b = append(b, `{"id":`...)
		b = x.appendID(b, "fc_")
		b = append(b, `,"type":"function_call","status":"`...)
		b = append(b, status...)
		b = append(b, `","arguments":`...)
		if done {
			b = appendStr(b, x.p.Text)
		} else {
			b = append(b, `""`...)
		}
		b = append(b, `,"call_id":`...)
		b = x.appendID(b, "call_")
		b = append(b, `,"name":`...)
		b = appendStr(b, x.p.ToolName)
		return append(b, '}')
	}
	b = append(b, `{"id":`...)
	b = x.appendID(b, "msg_")
	b = append(b, `,"type":"message","status":"`...)
	b = append(b, status...)
	b = append(b, `","role":"assistant","content":[`...)
	if done && x.p.dir.hosted {
		b = appendCitedText(b, x.p.Text)
	} else if done {
		b = appendOutputText(b, x.p.Text)
	}
	return append(b, `]}`...)
}

func appendOutputText(b []byte, text string) []byte {
	b = append(b, `{"type":"output_text","annotations":[],"logprobs":[],"text":`...)
	b = appendStr(b, text)
	return append(b, '}')
}

// responses answers POST /v1/responses.
func (x *exchange) responses() {
	if x.c.stream {
		x.responsesStream()
		return
	}
	bp := getBuf()
	defer putBuf(bp)
	b := x.appendResponse((*bp)[:0], x.responseStatus())
	*bp = b
	x.writeJSON(b)
}

// responsesStream sends the semantic events in the order OpenAI does; every
// event has "type" and an increasing "sequence_number", and there is no
// [DONE]: response.completed (or response.incomplete) ends the stream.
func (x *exchange) responsesStream() {
	st := x.startStream()
	defer st.close()
	seq := 0
	send := func(name string, fields func(b []byte) []byte) error {
		b := appendEvent(st.begin(), name)
		b = append(b, `{"type":"`...)
		b = append(b, name...)
		b = append(b, `","sequence_number":`...)
		b = appendInt(b, seq)
		seq++
		b = fields(b)
		return st.emit(endFrame(append(b, '}')))
	}
	itemRef := func(b []byte) []byte {
		b = append(b, `,"item_id":`...)
		if x.p.ToolName != "" {
			b = x.appendID(b, "fc_")
		} else {
			b = x.appendID(b, "msg_")
		}
		b = append(b, `,"output_index":`...)
		return appendInt(b, x.messageIndex())
	}
	object := func(status string) func([]byte) []byte {
		return func(b []byte) []byte {
			b = append(b, `,"response":`...)
			return x.appendResponse(b, status)
		}
	}
	item := func(done bool) func([]byte) []byte {
		return func(b []byte) []byte {
			b = append(b, `,"output_index":`...)
			b = appendInt(b, x.messageIndex())
			b = append(b, `,"item":`...)
			return x.appendOutputItem(b, done)
		}
	}
	if send("response.created", object(stInProgress)) != nil ||
		send("response.in_progress", object(stInProgress)) != nil {
		return
	}
	if x.p.dir.hosted && x.hostedEvents(send) != nil {
		return
	}
	if send("response.output_item.added", item(false)) != nil {
		return
	}
	tool := x.p.ToolName != ""
	if !tool {
		err := send("response.content_part.added", func(b []byte) []byte {
			b = itemRef(b)
			return appendOutputText(append(b, `,"content_index":0,"part":`...), "")
		})
		if err != nil {
			return
		}
	}
	deltaEvent := "response.output_text.delta"
	if tool {
		deltaEvent = "response.function_call_arguments.delta"
	}
	limit, sent := x.cutLimit(CountTokens(x.p.Text)), 0
	for piece := range pieces(x.p.Text) {
		if sent == limit {
			st.abort()
		}
		err := send(deltaEvent, func(b []byte) []byte {
			b = itemRef(b)
			if !tool {
				b = append(b, `,"content_index":0`...)
			}
			b = append(b, `,"delta":`...)
			b = appendStr(b, piece)
			if !tool {
				b = append(b, `,"logprobs":[]`...)
			}
			return b
		})
		if err != nil {
			return
		}
		sent++
	}
	if sent == limit {
		st.abort()
	}
	if tool {
		err := send("response.function_call_arguments.done", func(b []byte) []byte {
			b = append(itemRef(b), `,"arguments":`...)
			return appendStr(b, x.p.Text)
		})
		if err != nil {
			return
		}
	} else {
		if x.p.dir.hosted {
			err := send("response.output_text.annotation.added", func(b []byte) []byte {
				b = append(itemRef(b), `,"content_index":0,"annotation_index":0,"annotation":`...)
				return appendCitation(b, x.p.Text)
			})
			if err != nil {
				return
			}
		}
		err := send("response.output_text.done", func(b []byte) []byte {
			b = append(itemRef(b), `,"content_index":0,"text":`...)
			b = appendStr(b, x.p.Text)
			return append(b, `,"logprobs":[]`...)
		})
		if err != nil {
			return
		}
		err = send("response.content_part.done", func(b []byte) []byte {
			b = append(itemRef(b), `,"content_index":0,"part":`...)
			if x.p.dir.hosted {
				return appendCitedText(b, x.p.Text)
			}
			return appendOutputText(b, x.p.Text)
		})
		if err != nil {
			return
		}
	}
	if send("response.output_item.done", item(true)) != nil {
		return
	}
	status := x.responseStatus()
	_ = send("response."+status, object(status))
}
