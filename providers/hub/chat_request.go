package hub

import (
	"bytes"
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// DecodeChat reads an OpenAI Chat Completions request into r.
//
// System and developer messages become System texts wherever they are;
// user and assistant content (a string, or text, refusal and image_url
// parts) becomes parts; assistant tool_calls tool call parts; tool
// messages tool result parts of a user message. Refused (400 naming the
// field): audio and file parts, n > 1, the legacy functions API, non
// function tools.
func DecodeChat(r *Request, body []byte) error {
	r.Reset(body)
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(&s)
	}
	var messages, maxTokens, maxCompletion, stop, tools, choice, format, opts, n providers.Value
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "model":
			r.Model = lit(s.Value())
		case "messages":
			messages = s.Value()
		case "max_tokens":
			maxTokens = s.Value()
		case "max_completion_tokens":
			maxCompletion = s.Value()
		case "temperature":
			r.Temperature = s.Value()
		case "top_p":
			r.TopP = s.Value()
		case "stop":
			stop = s.Value()
		case "stream":
			r.Stream = readBool(s.Value())
		case "stream_options":
			opts = s.Value()
		case "tools":
			tools = s.Value()
		case "tool_choice":
			choice = s.Value()
		case "parallel_tool_calls":
			r.ParallelTools = readTri(s.Value())
		case "user":
			r.User = s.Value()
		case "n":
			n = s.Value()
		case "response_format":
			format = s.Value()
		case "functions", "function_call":
			return unsupported(string(s.Key(k)))
		case "audio":
			if v := s.Value(); v.Kind != providers.KindNull {
				return unsupported("audio")
			}
		case "modalities":
			// ["text"] is every request's default; audio output is not.
			if v := s.Value(); v.Kind == providers.KindArray && bytes.Contains(v.Raw(body), []byte(`"audio"`)) {
				return unsupported("modalities")
			}
		}
	}
	if err := s.Finish(); err != nil {
		return err
	}
	if c, err := readCount(body, n, "n"); err != nil {
		return err
	} else if c > 1 {
		return unsupported("n")
	}
	a, err := readCount(body, maxTokens, "max_tokens")
	if err != nil {
		return err
	}
	b, err := readCount(body, maxCompletion, "max_completion_tokens")
	if err != nil {
		return err
	}
	r.MaxTokens = max(a, b)
	if opts.Kind == providers.KindObject {
		r.IncludeUsage = readBool(member(body, opts, "include_usage"))
	}
	if err := readStop(r, stop, "stop"); err != nil {
		return err
	}
	if messages.Kind != providers.KindArray {
		return fieldErr("messages", providers.ErrType)
	}
	s.Seek(messages.Start)
	arr := s.Array()
	for arr.Next() {
		if err := chatMessage(r, &s); err != nil {
			return fieldErr("messages", err)
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	if err := chatTools(r, tools); err != nil {
		return err
	}
	if err := chatChoice(r, choice); err != nil {
		return err
	}
	return chatFormat(r, format, "response_format")
}

// member returns the value of one member of the object v ("" kind when
// absent).
func member(body []byte, v providers.Value, name string) providers.Value {
	if v.Kind != providers.KindObject {
		return providers.Value{}
	}
	s := scanAt(body, v)
	obj := s.Object()
	var out providers.Value
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) == name {
			out = s.Value()
		}
	}
	return out
}

func readStop(r *Request, v providers.Value, field string) error {
	switch v.Kind {
	case providers.KindString:
		r.Stop = append(r.Stop, v)
	case providers.KindArray:
		s := scanAt(r.Body, v)
		arr := s.Array()
		for arr.Next() {
			e := s.Value()
			if e.Kind != providers.KindString {
				return fieldErr(field, providers.ErrType)
			}
			r.Stop = append(r.Stop, e)
		}
		return s.Err()
	case providers.KindNull, providers.KindInvalid:
	default:
		return fieldErr(field, providers.ErrType)
	}
	return nil
}

func chatMessage(r *Request, s *providers.Scanner) error {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(s)
	}
	var role, content, toolCalls, toolCallID providers.Value
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "role":
			role = s.Value()
		case "content":
			content = s.Value()
		case "tool_calls":
			toolCalls = s.Value()
		case "tool_call_id":
			toolCallID = s.Value()
		case "function_call":
			if s.Value().Kind != providers.KindNull {
				return ErrUnsupported
			}
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	b := r.Body
	from := len(r.Parts)
	switch {
	case role.Equal(b, "system"), role.Equal(b, "developer"):
		return chatSystem(r, content)
	case role.Equal(b, "user"):
		if err := chatContent(r, content); err != nil {
			return err
		}
		r.endMessage(User, from)
	case role.Equal(b, "assistant"):
		if err := chatContent(r, content); err != nil {
			return err
		}
		if err := chatToolCalls(r, toolCalls); err != nil {
			return err
		}
		r.endMessage(Assistant, from)
	case role.Equal(b, "tool"):
		if toolCallID.Kind != providers.KindString {
			return providers.ErrType
		}
		p := Part{Kind: PartToolResult, ID: toolCallID}
		switch content.Kind {
		case providers.KindString:
			p.Text = lit(content)
		case providers.KindArray:
			if err := checkTextBlocks(b, content); err != nil {
				return err
			}
			p.Result = content
		case providers.KindNull, providers.KindInvalid:
		default:
			return providers.ErrType
		}
		r.addPart(p)
		r.endMessage(User, from)
	default:
		return ErrUnsupported
	}
	return nil
}

// checkTextBlocks accepts an array of {"type":"text","text":...} parts.
func checkTextBlocks(body []byte, v providers.Value) error {
	s := scanAt(body, v)
	arr := s.Array()
	for arr.Next() {
		text, typ, err := partFields(&s)
		if err != nil {
			return err
		}
		if !typ.Equal(body, "text") || text.Kind != providers.KindString {
			return ErrUnsupported
		}
	}
	return s.Err()
}

// partFields reads a content part object: its text (text, refusal or
// image_url) and type.
func partFields(s *providers.Scanner) (text, typ providers.Value, err error) {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return text, typ, errOrType(s)
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "type":
			typ = s.Value()
		case "text", "refusal", "image_url":
			text = s.Value()
		}
	}
	return text, typ, s.Err()
}

func chatSystem(r *Request, v providers.Value) error {
	switch v.Kind {
	case providers.KindString:
		r.System = append(r.System, lit(v))
	case providers.KindArray:
		s := scanAt(r.Body, v)
		arr := s.Array()
		for arr.Next() {
			text, typ, err := partFields(&s)
			if err != nil {
				return err
			}
			if typ.Kind == providers.KindString && !typ.Equal(r.Body, "text") {
				return ErrUnsupported
			}
			if text.Kind == providers.KindString {
				r.System = append(r.System, lit(text))
			}
		}
		return s.Err()
	case providers.KindNull, providers.KindInvalid:
	default:
		return providers.ErrType
	}
	return nil
}

func chatContent(r *Request, v providers.Value) error {
	switch v.Kind {
	case providers.KindString:
		r.addPart(Part{Kind: PartText, Text: lit(v)})
	case providers.KindArray:
		b := r.Body
		s := scanAt(b, v)
		arr := s.Array()
		for arr.Next() {
			text, typ, err := partFields(&s)
			if err != nil {
				return err
			}
			switch {
			case typ.Equal(b, "text"), typ.Equal(b, "refusal"):
				if text.Kind != providers.KindString {
					return providers.ErrType
				}
				r.addPart(Part{Kind: PartText, Text: lit(text)})
			case typ.Equal(b, "image_url"):
				url := text
				if text.Kind == providers.KindObject {
					url = member(b, text, "url")
				}
				if url.Kind != providers.KindString {
					return providers.ErrType
				}
				r.addPart(Part{Kind: PartImage, URL: url})
			default:
				return ErrUnsupported
			}
		}
		return s.Err()
	case providers.KindNull, providers.KindInvalid:
	default:
		return providers.ErrType
	}
	return nil
}

func chatToolCalls(r *Request, v providers.Value) error {
	if v.Kind != providers.KindArray {
		return nil
	}
	b := r.Body
	s := scanAt(b, v)
	arr := s.Array()
	for arr.Next() {
		if s.Peek() != providers.KindObject {
			s.Skip()
			return errOrType(&s)
		}
		var id, fn providers.Value
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(s.Key(k)) {
			case "id":
				id = s.Value()
			case "function":
				fn = s.Value()
			case "type":
				if !s.Value().Equal(b, "function") {
					return ErrUnsupported
				}
			}
		}
		if err := s.Err(); err != nil {
			return err
		}
		name, args := member(b, fn, "name"), member(b, fn, "arguments")
		if id.Kind != providers.KindString || name.Kind != providers.KindString {
			return providers.ErrType
		}
		if args.Kind != providers.KindString && args.Kind != providers.KindNull && args.Kind != providers.KindInvalid {
			return providers.ErrType
		}
		r.addPart(Part{Kind: PartToolCall, ID: id, Name: name, Args: args})
	}
	return s.Err()
}

func chatTools(r *Request, v providers.Value) error {
	if v.Kind != providers.KindArray {
		return nil
	}
	b := r.Body
	s := scanAt(b, v)
	arr := s.Array()
	for arr.Next() {
		if s.Peek() != providers.KindObject {
			s.Skip()
			return fieldErr("tools", errOrType(&s))
		}
		var fn providers.Value
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(s.Key(k)) {
			case "type":
				if !s.Value().Equal(b, "function") {
					return unsupported("tools[" + strconv.Itoa(arr.Index()) + "].type")
				}
			case "function":
				fn = s.Value()
			}
		}
		if fn.Kind != providers.KindObject {
			return fieldErr("tools", providers.ErrType)
		}
		t := Tool{Name: member(b, fn, "name"), Description: member(b, fn, "description"),
			Schema: member(b, fn, "parameters"), Strict: member(b, fn, "strict")}
		if t.Name.Kind != providers.KindString {
			return fieldErr("tools", providers.ErrType)
		}
		r.Tools = append(r.Tools, t)
	}
	return fieldErr("tools", s.Err())
}

func chatChoice(r *Request, v providers.Value) error {
	b := r.Body
	switch {
	case v.Kind == providers.KindInvalid || v.IsNull():
	case v.Equal(b, "auto"):
		r.Choice = ChoiceAuto
	case v.Equal(b, "none"):
		r.Choice = ChoiceNone
	case v.Equal(b, "required"):
		r.Choice = ChoiceRequired
	case v.Kind == providers.KindObject:
		if typ := member(b, v, "type"); !typ.Equal(b, "function") {
			return unsupported("tool_choice.type")
		}
		name := member(b, member(b, v, "function"), "name")
		if name.Kind != providers.KindString {
			return fieldErr("tool_choice", providers.ErrType)
		}
		r.Choice, r.ChoiceName = ChoiceNamed, name
	default:
		return unsupported("tool_choice")
	}
	return nil
}

// chatFormat reads response_format: {"type":"text"|"json_object"|
// "json_schema","json_schema":{"name","description","schema","strict"}}.
func chatFormat(r *Request, v providers.Value, field string) error {
	if v.Kind == providers.KindInvalid || v.IsNull() {
		return nil
	}
	if v.Kind != providers.KindObject {
		return fieldErr(field, providers.ErrType)
	}
	b := r.Body
	typ := member(b, v, "type")
	switch {
	case typ.Equal(b, "text"):
	case typ.Equal(b, "json_object"):
		r.Format = Format{Kind: FormatJSONObject, Field: field}
	case typ.Equal(b, "json_schema"):
		js := member(b, v, "json_schema")
		if js.Kind != providers.KindObject {
			return fieldErr(field+".json_schema", providers.ErrType)
		}
		r.Format = Format{Kind: FormatJSONSchema, Field: field, Name: member(b, js, "name"),
			Description: member(b, js, "description"), Schema: member(b, js, "schema"), Strict: member(b, js, "strict")}
		if r.Format.Schema.Kind != providers.KindObject {
			return fieldErr(field+".json_schema.schema", providers.ErrType)
		}
	default:
		return unsupported(field + ".type")
	}
	return nil
}

// Options are the proxy's changes to a translated request.
type Options struct {
	// Model replaces the model; "" keeps the client's.
	Model string
	// Prepend adds policy messages (see Request.Prepend).
	Prepend []providers.Message
	// DefaultMaxTokens is the cap written when the client set none and the
	// target requires one (Anthropic).
	DefaultMaxTokens int64
	// MaxTokensLimit, when positive, lowers the cap to it (budget clamp).
	MaxTokensLimit int64
	// IncludeUsage asks an OpenAI stream for its usage chunk.
	IncludeUsage bool
	// MaxTokensField is the OpenAI cap field: "max_completion_tokens"
	// (default) or "max_tokens" for compatible hosts.
	MaxTokensField string
}

func (o *Options) cap(r *Request) int64 {
	n := r.MaxTokens
	if n == 0 {
		n = o.DefaultMaxTokens
	}
	if o.MaxTokensLimit > 0 && (n == 0 || n > o.MaxTokensLimit) {
		n = o.MaxTokensLimit
	}
	return n
}

func appendModel(dst, body []byte, r *Request, o *Options) ([]byte, error) {
	switch {
	case o.Model != "":
		return providers.AppendStringText(dst, o.Model), nil
	case r.Model.V.Kind == providers.KindString:
		return append(dst, r.Model.V.Raw(body)...), nil
	}
	return dst, fieldErr("model", providers.ErrType)
}

// EncodeChat writes r as an OpenAI Chat Completions request.
func EncodeChat(dst []byte, r *Request, o Options) ([]byte, error) {
	b := r.Body
	dst = append(dst, `{"model":`...)
	var err error
	if dst, err = appendModel(dst, b, r, &o); err != nil {
		return dst, err
	}
	dst = append(dst, `,"messages":[`...)
	n := 0
	sep := func(dst []byte) []byte {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		return dst
	}
	for _, sys := range r.System {
		dst = sep(dst)
		dst = append(dst, `{"role":"system","content":`...)
		dst = sys.appendJSON(dst, b)
		dst = append(dst, '}')
	}
	for _, m := range r.Messages {
		parts := r.Parts[m.From:m.To]
		// Tool results are messages of their own, ahead of the user's
		// other content (Anthropic puts them first in the user turn).
		for i := range parts {
			if parts[i].Kind == PartToolResult {
				dst = sep(dst)
				dst = appendChatToolResult(dst, b, &parts[i])
			}
		}
		texts, images, calls := 0, 0, 0
		for i := range parts {
			switch parts[i].Kind {
			case PartText:
				texts++
			case PartImage:
				images++
			case PartToolCall:
				calls++
			}
		}
		if texts+images+calls == 0 {
			continue
		}
		dst = sep(dst)
		dst = append(dst, `{"role":"`...)
		dst = append(dst, m.Role.String()...)
		dst = append(dst, `","content":`...)
		switch {
		case texts+images == 0:
			dst = append(dst, "null"...)
		case m.Role == Assistant || images == 0:
			if images > 0 {
				return dst, unsupported("messages.content.image")
			}
			dst = append(dst, '"')
			for i := range parts {
				if parts[i].Kind == PartText {
					dst = parts[i].Text.appendInner(dst, b)
				}
			}
			dst = append(dst, '"')
		default:
			dst = append(dst, '[')
			k := 0
			for i := range parts {
				p := &parts[i]
				if p.Kind != PartText && p.Kind != PartImage {
					continue
				}
				if k > 0 {
					dst = append(dst, ',')
				}
				k++
				if p.Kind == PartText {
					dst = append(dst, `{"type":"text","text":`...)
					dst = p.Text.appendJSON(dst, b)
					dst = append(dst, '}')
					continue
				}
				dst = append(dst, `{"type":"image_url","image_url":{"url":`...)
				dst = appendImageURL(dst, b, p)
				dst = append(dst, "}}"...)
			}
			dst = append(dst, ']')
		}
		if calls > 0 {
			dst = append(dst, `,"tool_calls":[`...)
			k := 0
			for i := range parts {
				p := &parts[i]
				if p.Kind != PartToolCall {
					continue
				}
				if k > 0 {
					dst = append(dst, ',')
				}
				k++
				dst = append(dst, `{"id":`...)
				dst = append(dst, p.ID.Raw(b)...)
				dst = append(dst, `,"type":"function","function":{"name":`...)
				dst = append(dst, p.Name.Raw(b)...)
				dst = append(dst, `,"arguments":`...)
				dst = appendArgsString(dst, b, p.Args)
				dst = append(dst, "}}"...)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if c := o.cap(r); c > 0 {
		field := o.MaxTokensField
		if field == "" {
			field = "max_completion_tokens"
		}
		dst = append(dst, `,"`...)
		dst = append(dst, field...)
		dst = append(dst, `":`...)
		dst = strconv.AppendInt(dst, c, 10)
	}
	if r.Stream {
		dst = append(dst, `,"stream":true`...)
		if o.IncludeUsage || r.IncludeUsage {
			dst = append(dst, `,"stream_options":{"include_usage":true}`...)
		}
	}
	if dst, err = appendSampling(dst, b, r); err != nil {
		return dst, err
	}
	if len(r.Stop) > 0 {
		dst = append(dst, `,"stop":[`...)
		for i, v := range r.Stop {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, v.Raw(b)...)
		}
		dst = append(dst, ']')
	}
	if len(r.Tools) > 0 {
		dst = append(dst, `,"tools":[`...)
		for i, t := range r.Tools {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"type":"function","function":{"name":`...)
			dst = append(dst, t.Name.Raw(b)...)
			if t.Description.Kind == providers.KindString {
				dst = append(dst, `,"description":`...)
				dst = append(dst, t.Description.Raw(b)...)
			}
			dst = append(dst, `,"parameters":`...)
			dst = appendSchema(dst, b, t.Schema)
			if t.Strict.Kind == providers.KindTrue {
				dst = append(dst, `,"strict":true`...)
			}
			dst = append(dst, "}}"...)
		}
		dst = append(dst, ']')
	}
	switch r.Choice {
	case ChoiceAuto:
		dst = append(dst, `,"tool_choice":"auto"`...)
	case ChoiceNone:
		dst = append(dst, `,"tool_choice":"none"`...)
	case ChoiceRequired:
		dst = append(dst, `,"tool_choice":"required"`...)
	case ChoiceNamed:
		dst = append(dst, `,"tool_choice":{"type":"function","function":{"name":`...)
		dst = append(dst, r.ChoiceName.Raw(b)...)
		dst = append(dst, "}}"...)
	}
	if r.ParallelTools == False && len(r.Tools) > 0 {
		dst = append(dst, `,"parallel_tool_calls":false`...)
	}
	switch r.Format.Kind {
	case FormatJSONObject:
		dst = append(dst, `,"response_format":{"type":"json_object"}`...)
	case FormatJSONSchema:
		dst = append(dst, `,"response_format":{"type":"json_schema","json_schema":{"name":`...)
		if r.Format.Name.Kind == providers.KindString {
			dst = append(dst, r.Format.Name.Raw(b)...)
		} else {
			dst = append(dst, `"output"`...)
		}
		if r.Format.Description.Kind == providers.KindString {
			dst = append(dst, `,"description":`...)
			dst = append(dst, r.Format.Description.Raw(b)...)
		}
		dst = append(dst, `,"schema":`...)
		dst = append(dst, r.Format.Schema.Raw(b)...)
		if r.Format.Strict.Kind != providers.KindFalse {
			dst = append(dst, `,"strict":true`...)
		}
		dst = append(dst, "}}"...)
	}
	if r.User.Kind == providers.KindString {
		dst = append(dst, `,"user":`...)
		dst = append(dst, r.User.Raw(b)...)
	}
	return append(dst, '}'), nil
}

func appendChatToolResult(dst, b []byte, p *Part) []byte {
	dst = append(dst, `{"role":"tool","tool_call_id":`...)
	dst = append(dst, p.ID.Raw(b)...)
	dst = append(dst, `,"content":`...)
	switch {
	case p.Result.Kind == providers.KindArray:
		dst = append(dst, '[')
		s := scanAt(b, p.Result)
		arr := s.Array()
		k := 0
		for arr.Next() {
			text, _, _ := partFields(&s)
			if text.Kind != providers.KindString {
				continue
			}
			if k > 0 {
				dst = append(dst, ',')
			}
			k++
			dst = append(dst, `{"type":"text","text":`...)
			dst = append(dst, text.Raw(b)...)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	case p.Text.valid():
		dst = p.Text.appendJSON(dst, b)
	default:
		dst = append(dst, `""`...)
	}
	return append(dst, '}')
}

// appendImageURL writes an image as a URL: a base64 source as a data URL.
func appendImageURL(dst, b []byte, p *Part) []byte {
	if p.URL.Kind == providers.KindString {
		return append(dst, p.URL.Raw(b)...)
	}
	dst = append(dst, `"data:`...)
	dst = append(dst, b[p.MediaType.Start+1:p.MediaType.End-1]...)
	dst = append(dst, ";base64,"...)
	dst = append(dst, b[p.Data.Start+1:p.Data.End-1]...)
	return append(dst, '"')
}

func appendSchema(dst, b []byte, v providers.Value) []byte {
	if v.Kind == providers.KindObject {
		return append(dst, v.Raw(b)...)
	}
	return append(dst, `{"type":"object","properties":{}}`...)
}

func appendSampling(dst, b []byte, r *Request) ([]byte, error) {
	if v := r.Temperature; v.Kind == providers.KindNumber {
		dst = append(dst, `,"temperature":`...)
		dst = append(dst, v.Raw(b)...)
	} else if v.Kind != providers.KindInvalid && !v.IsNull() {
		return dst, fieldErr("temperature", providers.ErrType)
	}
	if v := r.TopP; v.Kind == providers.KindNumber {
		dst = append(dst, `,"top_p":`...)
		dst = append(dst, v.Raw(b)...)
	} else if v.Kind != providers.KindInvalid && !v.IsNull() {
		return dst, fieldErr("top_p", providers.ErrType)
	}
	return dst, nil
}

// dataURL splits a data: URL into media type and base64 data; ok is false
// for anything else.
func dataURL(text []byte) (mediaType, data []byte, ok bool) {
	rest, isData := bytes.CutPrefix(text, []byte("data:"))
	if !isData {
		return nil, nil, false
	}
	meta, data, found := bytes.Cut(rest, []byte(","))
	mediaType, isBase64 := bytes.CutSuffix(meta, []byte(";base64"))
	return mediaType, data, found && isBase64
}
