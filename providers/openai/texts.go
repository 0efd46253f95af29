package openai

import (
	"github.com/tokenomics-dev/tokenomics/providers"
)

// Roles as they appear on TextRefs.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
	RoleFunction  = "function"
	RoleSuffix    = "suffix" // completions suffix
)

// role returns the constant for a role value, avoiding an allocation for
// the known ones.
func role(body []byte, v providers.Value) string {
	if v.Kind != providers.KindString {
		return ""
	}
	if !v.Escaped {
		switch string(body[v.Start+1 : v.End-1]) {
		case RoleSystem:
			return RoleSystem
		case RoleDeveloper:
			return RoleDeveloper
		case RoleUser:
			return RoleUser
		case RoleAssistant:
			return RoleAssistant
		case RoleTool:
			return RoleTool
		case RoleFunction:
			return RoleFunction
		}
	}
	return v.String(body)
}

func kindForRole(r string) string {
	if r == RoleSystem || r == RoleDeveloper {
		return providers.TextSystem
	}
	return providers.TextMessage
}

// setRole fills in role and kind on refs appended since from: a message's
// role may come after its content in the object.
func (w *walker) setRole(from int, r string) {
	for i := from; i < len(w.refs); i++ {
		w.refs[i].Role = r
		if w.refs[i].Kind == "" {
			w.refs[i].Kind = kindForRole(r)
		}
	}
}

// readMessages walks the chat messages array.
func readMessages(w *walker) error {
	s := &w.s
	if s.Peek() != providers.KindArray {
		s.Skip()
		return orType(w)
	}
	arr := s.Array()
	for arr.Next() {
		idx := arr.Index()
		w.messages++
		providers.CountMessage(s, w.messages)
		if s.Peek() != providers.KindObject {
			s.Skip()
			if err := s.Err(); err != nil {
				return err
			}
			return providers.ErrType
		}
		from := len(w.refs)
		r := ""
		var seen uint64
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(itemKeys.Member(s, k, &seen)) {
			case "role":
				r = role(w.body, s.Value())
			case "content":
				w.content(idx, "")
			case "tool_calls":
				w.toolCalls(idx)
			case "function_call":
				w.functionCall(idx, -1)
			case "refusal":
				if v := s.Value(); v.Kind == providers.KindString {
					w.text(v, "", "", idx, -1)
				}
			case "name":
				// A participant name is rendered into the prompt.
				if v := s.Value(); v.Kind == providers.KindString {
					w.raw(v)
					w.ref(v, "", "", idx, -1, providers.FormName)
				}
			}
		}
		w.setRole(from, r)
	}
	return s.Err()
}

// content reads a message content: a string, null, an array of parts or,
// for a tool output, one part (a computer call's screenshot). kind ""
// means: decided by the message's role later.
func (w *walker) content(idx int, kind string) {
	s := &w.s
	switch s.Peek() {
	case providers.KindString:
		w.text(s.Value(), "", kind, idx, -1)
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			w.part(idx, arr.Index(), kind)
		}
	case providers.KindObject:
		w.part(idx, 0, kind)
	default:
		s.Skip()
	}
}

// part reads one content part: text parts (text, input_text, output_text)
// and refusals carry text; image parts cost an allowance; others are
// skipped.
func (w *walker) part(idx, partIdx int, kind string) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	var text, refusal providers.Value
	image := false
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(itemKeys.Member(s, k, &seen)) {
		case "text":
			if v := s.Value(); v.Kind == providers.KindString {
				text = v
			}
		case "refusal":
			if v := s.Value(); v.Kind == providers.KindString {
				refusal = v
			}
		case "type":
			v := s.Value()
			image = v.Equal(w.body, "image_url") || v.Equal(w.body, "input_image")
		case "image_url":
			// chat: {"url": ..., "detail": ...}; responses: the URL.
			w.urlOrObject(idx, partIdx, kind)
		case "file":
			// chat file part: {"filename", "file_data", "file_id"}
			w.file(idx, partIdx, kind)
		case "filename":
			w.ref(s.Value(), "", kind, idx, partIdx, providers.FormName)
		case "file_data":
			w.url(s.Value(), idx, partIdx, kind, true)
		case "file_url":
			w.url(s.Value(), idx, partIdx, kind, false)
		case "annotations":
			// An answer's citations (a web search's page titles and
			// URLs, a file search's file names) reach the client too.
			if w.request {
				s.Skip()
				continue
			}
			saved := w.hosted
			w.hosted = (partIdx + 1) << 12
			w.hostedTree(idx)
			w.hosted = saved
		}
	}
	if image {
		w.image()
	}
	// A part may carry both: the provider reads text, a client may show
	// refusal; both are checked.
	if text.Kind == providers.KindString {
		w.text(text, "", kind, idx, partIdx)
	}
	if refusal.Kind == providers.KindString {
		w.text(refusal, "", kind, idx, partIdx)
	}
}

// toolCalls reads an assistant message's tool_calls array.
func (w *walker) toolCalls(idx int) {
	s := &w.s
	if s.Peek() != providers.KindArray {
		s.Skip()
		return
	}
	arr := s.Array()
	for arr.Next() {
		call := arr.Index()
		if s.Peek() != providers.KindObject {
			s.Skip()
			continue
		}
		from := len(w.refs)
		var seen uint64
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(itemKeys.Member(s, k, &seen)) {
			case "function":
				w.functionCall(idx, call)
			case "index":
				// Streamed tool calls name their slot; the array
				// position is always 0 there.
				if n, err := s.Value().Int(w.body); err == nil {
					call = int(n)
				}
			}
		}
		for i := from; i < len(w.refs); i++ {
			w.refs[i].Part = call
		}
	}
}

// functionCall reads {"name": ..., "arguments": "..."}.
func (w *walker) functionCall(idx, call int) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(itemKeys.Member(s, k, &seen)) {
		case "arguments":
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, "", providers.TextToolArgs, idx, call)
			}
		case "name":
			v := s.Value()
			w.raw(v)
			w.ref(v, "", providers.TextToolArgs, idx, call, providers.FormName)
		}
	}
}

// urlOrObject reads an image_url member: a URL string (responses) or an
// object holding it under "url" (chat).
func (w *walker) urlOrObject(idx, part int, kind string) {
	s := &w.s
	switch s.Peek() {
	case providers.KindString:
		w.url(s.Value(), idx, part, kind, false)
	case providers.KindObject:
		var seen uint64
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			if string(itemKeys.Member(s, k, &seen)) == "url" {
				w.url(s.Value(), idx, part, kind, false)
			}
		}
	default:
		s.Skip()
	}
}

// file reads a chat file part's object.
func (w *walker) file(idx, part int, kind string) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(itemKeys.Member(s, k, &seen)) {
		case "filename":
			// The file's name is shown to the model with the file.
			w.ref(s.Value(), "", kind, idx, part, providers.FormName)
		case "file_data":
			w.url(s.Value(), idx, part, kind, true)
		case "file_url":
			w.url(s.Value(), idx, part, kind, false)
		}
	}
}

// url references a URL the provider fetches (checked as text, masked in
// URL form) or, for a data: URL, the document it holds (see
// providers.DataURL): a text document is decoded and checked, a PDF or an
// image forwarded, anything else refused. A file's data must be a data:
// URL: raw base64 has no media type to tell text from binary, so it is
// refused. Checks run only when collecting a request's texts for the
// rules; pricing reads no URL.
func (w *walker) url(v providers.Value, idx, part int, kind string, file bool) {
	if !w.request || v.Kind != providers.KindString {
		return
	}
	d, err := providers.DataURL(w.body, v)
	switch {
	case err != nil:
		w.s.Fail(err)
	case d == providers.DataNone && file:
		w.s.Fail(errFileData)
	case d == providers.DataNone:
		w.ref(v, "", kind, idx, part, providers.FormURL)
	case d == providers.DataText:
		w.ref(v, "", kind, idx, part, providers.FormData)
	}
}

// ref references a literal the provider receives that is not priced as
// prompt text (names, URLs, documents, stop sequences, user ids, schema
// member names). Only request texts hold them, and they count towards
// MaxTexts only there, so requests without input rules parse as before.
func (w *walker) ref(v providers.Value, role, kind string, index, part int, form providers.Form) {
	if !w.request || v.Kind != providers.KindString {
		return
	}
	w.ntexts++
	providers.CountText(&w.s, w.ntexts)
	r := v.Ref(role, kind, index, part)
	r.Form = form
	w.refs = append(w.refs, r)
}

// stringOrStrings reads a string or an array of strings; other elements
// (token ids) are skipped. Token ids cost one token each.
func (w *walker) stringOrStrings(r, kind string) {
	s := &w.s
	switch s.Peek() {
	case providers.KindString:
		w.text(s.Value(), r, kind, -1, -1)
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			switch s.Peek() {
			case providers.KindString:
				w.text(s.Value(), r, kind, -1, arr.Index())
			case providers.KindNumber:
				s.Skip()
				w.tokens++
				w.bound.Add(1)
			case providers.KindArray:
				inner := s.Array()
				for inner.Next() {
					s.Skip()
					w.tokens++
					w.bound.Add(1)
				}
			default:
				s.Skip()
			}
		}
	default:
		s.Skip()
	}
}

func readPrompt(w *walker) error {
	w.stringOrStrings(RoleUser, providers.TextPrompt)
	return w.s.Err()
}

func readSuffix(w *walker) error {
	if v := w.s.Value(); v.Kind == providers.KindString {
		w.text(v, RoleSuffix, providers.TextPrompt, -1, -1)
	}
	return w.s.Err()
}

func readEmbeddingInput(w *walker) error {
	w.stringOrStrings(RoleUser, providers.TextInput)
	return w.s.Err()
}

func readInstructions(w *walker) error {
	if v := w.s.Value(); v.Kind == providers.KindString {
		w.text(v, RoleSystem, providers.TextSystem, -1, -1)
		w.messages++
	}
	return w.s.Err()
}

// readResponsesInput reads the responses API input: a string, or an array
// of items (messages, function calls and outputs, ...).
func readResponsesInput(w *walker) error {
	s := &w.s
	switch s.Peek() {
	case providers.KindString:
		w.text(s.Value(), RoleUser, providers.TextInput, -1, -1)
		w.messages++
		return s.Err()
	case providers.KindArray:
	default:
		s.Skip()
		return orType(w)
	}
	arr := s.Array()
	for arr.Next() {
		w.inputItem(arr.Index())
	}
	return s.Err()
}

// inputItem reads one responses input item. Member order is free, so the
// item's role and type are applied once the object is read.
func (w *walker) inputItem(idx int) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	w.messages++
	providers.CountMessage(s, w.messages)
	from := len(w.refs)
	r := ""
	reasoning := false
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(itemKeys.Member(s, k, &seen)) {
		case "role":
			r = role(w.body, s.Value())
		case "type":
			reasoning = s.Value().Equal(w.body, "reasoning")
		case "content":
			w.content(idx, "")
		case "arguments", "input":
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, RoleAssistant, providers.TextToolArgs, idx, -1)
			}
		case "output":
			if s.Peek() == providers.KindString {
				w.text(s.Value(), RoleTool, providers.TextMessage, idx, -1)
			} else {
				w.content(idx, providers.TextMessage)
				for i := from; i < len(w.refs); i++ {
					w.refs[i].Role = RoleTool
				}
			}
		case "name":
			// function_call and custom_tool_call items: the tool's name
			v := s.Value()
			w.raw(v)
			w.ref(v, RoleAssistant, providers.TextToolArgs, idx, -1, providers.FormName)
		case "summary":
			w.content(idx, providers.TextReasoning) // reasoning summary parts
		}
	}
	if reasoning {
		// Reasoning items (summaries, reasoning text) are read back by
		// the model on the next turn, so they are checked like any text;
		// encrypted_content is opaque and only forwarded.
		r = RoleAssistant
		for i := from; i < len(w.refs); i++ {
			w.refs[i].Kind = providers.TextReasoning
		}
	}
	if r == "" {
		r = RoleUser
	}
	for i := from; i < len(w.refs); i++ {
		if w.refs[i].Role == "" {
			w.refs[i].Role = r
		}
		if w.refs[i].Kind == "" {
			w.refs[i].Kind = kindForRole(r)
		}
	}
}
