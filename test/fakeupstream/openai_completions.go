package fakeupstream

// completions answers the legacy POST /v1/completions.
func (x *exchange) completions() {
	finish := `"stop"`
	if x.p.Truncated {
		finish = `"length"`
	}
	if x.c.stream {
		x.completionsStream(finish)
		return
	}
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"id":`...)
	b = x.appendID(b, "cmpl-")
	b = append(b, `,"object":"text_completion","created":`...)
	b = appendInt(b, int(x.created))
	b = append(b, `,"model":`...)
	b = appendStr(b, x.c.model)
	b = append(b, `,"choices":[`...)
	for i := range x.p.Choices {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"text":`...)
		b = appendStr(b, x.p.Text)
		b = append(b, `,"index":`...)
		b = appendInt(b, i)
		b = append(b, `,"logprobs":null,"finish_reason":`...)
		b = append(b, finish...)
		b = append(b, '}')
	}
	b = append(b, ']')
	if !x.p.dir.nousage {
		b = append(b, `,"usage":`...)
		b = x.appendOpenAIUsage(b)
	}
	b = append(b, `,"system_fingerprint":`+fingerprint+`}`...)
	*bp = b
	x.writeJSON(b)
}

func (x *exchange) completionsStream(finish string) {
	st := x.startStream()
	defer st.close()

	head := make([]byte, 0, 128)
	head = append(head, `{"id":`...)
	head = x.appendID(head, "cmpl-")
	head = append(head, `,"object":"text_completion","created":`...)
	head = appendInt(head, int(x.created))
	head = append(head, `,"model":`...)
	head = appendStr(head, x.c.model)
	head = append(head, `,"system_fingerprint":`+fingerprint+`,"choices":[`...)
	tail := `]}`
	if x.c.includeUsage {
		tail = `],"usage":null}`
	}
	send := func(text, finish string) error {
		b := appendData(st.begin())
		b = append(b, head...)
		b = append(b, `{"text":`...)
		b = appendStr(b, text)
		b = append(b, `,"index":0,"logprobs":null,"finish_reason":`...)
		b = append(b, finish...)
		b = append(b, '}')
		b = append(b, tail...)
		return st.emit(endFrame(b))
	}
	limit, sent := x.cutLimit(CountTokens(x.p.Text)), 0
	for piece := range pieces(x.p.Text) {
		if sent == limit {
			st.abort()
		}
		if send(piece, "null") != nil {
			return
		}
		sent++
	}
	if sent == limit {
		st.abort()
	}
	if send("", finish) != nil {
		return
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
