package hub

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// DecodeResponses reads an OpenAI Responses request into r.
//
// instructions become a System text and input (a string or items) the
// conversation: message items (input_text, output_text, refusal and
// input_image parts; system and developer roles join System),
// function_call items tool call parts of an assistant message,
// function_call_output items tool result parts of a user message;
// reasoning items are dropped (another model cannot read them).
// text.format json_schema is the output format. Refused (400 naming the
// field): server-side state (previous_response_id, conversation, prompt,
// item_reference items), file and audio parts, non function tools.
func DecodeResponses(r *Request, body []byte) error {
	r.Reset(body)
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(&s)
	}
	var input, instructions, maxTokens, tools, choice, text, metadata providers.Value
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch name := string(s.Key(k)); name {
		case "model":
			r.Model = lit(s.Value())
		case "input":
			input = s.Value()
		case "instructions":
			instructions = s.Value()
		case "max_output_tokens":
			maxTokens = s.Value()
		case "temperature":
			r.Temperature = s.Value()
		case "top_p":
			r.TopP = s.Value()
		case "stream":
			r.Stream = readBool(s.Value())
		case "tools":
			tools = s.Value()
		case "tool_choice":
			choice = s.Value()
		case "parallel_tool_calls":
			r.ParallelTools = readTri(s.Value())
		case "user", "safety_identifier":
			if v := s.Value(); v.Kind == providers.KindString {
				r.User = v
			}
		case "metadata":
			metadata = s.Value()
		case "text":
			text = s.Value()
		case "previous_response_id", "conversation", "prompt":
			if v := s.Value(); v.Kind != providers.KindNull {
				return &FieldError{Field: name, Err: ErrServerState}
			}
		case "background":
			if v := s.Value(); v.Kind == providers.KindTrue {
				return unsupported(name)
			}
		}
	}
	if err := s.Finish(); err != nil {
		return err
	}
	_ = metadata
	var err error
	if r.MaxTokens, err = readCount(body, maxTokens, "max_output_tokens"); err != nil {
		return err
	}
	switch instructions.Kind {
	case providers.KindString:
		r.System = append(r.System, lit(instructions))
	case providers.KindNull, providers.KindInvalid:
	default:
		return fieldErr("instructions", providers.ErrType)
	}
	switch input.Kind {
	case providers.KindString:
		from := len(r.Parts)
		r.addPart(Part{Kind: PartText, Text: lit(input)})
		r.endMessage(User, from)
	case providers.KindArray:
		s.Seek(input.Start)
		arr := s.Array()
		for arr.Next() {
			if err := responsesItem(r, &s, arr.Index()); err != nil {
				return err
			}
		}
		if err := s.Err(); err != nil {
			return err
		}
	default:
		return fieldErr("input", providers.ErrType)
	}
	if err := responsesTools(r, tools); err != nil {
		return err
	}
	if err := responsesChoice(r, choice); err != nil {
		return err
	}
	if f := member(body, text, "format"); f.Kind == providers.KindObject {
		return responsesFormat(r, f)
	}
	return nil
}

// item is the members of a Responses input item the hub reads.
type item struct {
	typ, role, content, callID, name, arguments, output providers.Value
}

func responsesItem(r *Request, s *providers.Scanner, idx int) error {
	field := "input[" + strconv.Itoa(idx) + "]"
	if s.Peek() != providers.KindObject {
		s.Skip()
		return fieldErr(field, errOrType(s))
	}
	var it item
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "type":
			it.typ = s.Value()
		case "role":
			it.role = s.Value()
		case "content":
			it.content = s.Value()
		case "call_id":
			it.callID = s.Value()
		case "name":
			it.name = s.Value()
		case "arguments":
			it.arguments = s.Value()
		case "output":
			it.output = s.Value()
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	b := r.Body
	from := len(r.Parts)
	switch {
	case it.typ.Kind == providers.KindInvalid || it.typ.Equal(b, "message"):
		switch {
		case it.role.Equal(b, "system"), it.role.Equal(b, "developer"):
			return fieldErr(field, responsesSystem(r, it.content))
		case it.role.Equal(b, "user"):
			if err := responsesContent(r, it.content); err != nil {
				return fieldErr(field+".content", err)
			}
			r.endMessage(User, from)
		case it.role.Equal(b, "assistant"):
			if err := responsesContent(r, it.content); err != nil {
				return fieldErr(field+".content", err)
			}
			r.endMessage(Assistant, from)
		default:
			return unsupported(field + ".role")
		}
	case it.typ.Equal(b, "function_call"):
		if it.callID.Kind != providers.KindString || it.name.Kind != providers.KindString {
			return fieldErr(field, providers.ErrType)
		}
		if it.arguments.Kind != providers.KindString && it.arguments.Kind != providers.KindInvalid {
			return fieldErr(field+".arguments", providers.ErrType)
		}
		r.addPart(Part{Kind: PartToolCall, ID: it.callID, Name: it.name, Args: it.arguments})
		r.endMessage(Assistant, from)
	case it.typ.Equal(b, "function_call_output"):
		if it.callID.Kind != providers.KindString {
			return fieldErr(field+".call_id", providers.ErrType)
		}
		p := Part{Kind: PartToolResult, ID: it.callID}
		switch it.output.Kind {
		case providers.KindString:
			p.Text = lit(it.output)
		case providers.KindArray:
			if err := responsesResultParts(b, it.output); err != nil {
				return fieldErr(field+".output", err)
			}
			p.Result = it.output
		default:
			return fieldErr(field+".output", providers.ErrType)
		}
		r.addPart(p)
		r.endMessage(User, from)
	case it.typ.Equal(b, "item_reference"):
		return &FieldError{Field: field + ".type", Err: ErrServerState}
	case it.typ.Equal(b, "reasoning"):
		// The model's own reasoning, often encrypted for OpenAI: another
		// model cannot take it back.
	default:
		return unsupported(field + ".type")
	}
	return nil
}

func responsesSystem(r *Request, v providers.Value) error {
	switch v.Kind {
	case providers.KindString:
		r.System = append(r.System, lit(v))
		return nil
	case providers.KindArray:
		s := scanAt(r.Body, v)
		arr := s.Array()
		for arr.Next() {
			text, typ, err := partFields(&s)
			if err != nil {
				return err
			}
			if !typ.Equal(r.Body, "input_text") || text.Kind != providers.KindString {
				return ErrUnsupported
			}
			r.System = append(r.System, lit(text))
		}
		return s.Err()
	}
	return providers.ErrType
}

// responsesContent reads a message item's content: a string or parts.
func responsesContent(r *Request, v providers.Value) error {
	b := r.Body
	switch v.Kind {
	case providers.KindString:
		r.addPart(Part{Kind: PartText, Text: lit(v)})
		return nil
	case providers.KindArray:
	default:
		return providers.ErrType
	}
	s := scanAt(b, v)
	arr := s.Array()
	for arr.Next() {
		if s.Peek() != providers.KindObject {
			s.Skip()
			return errOrType(&s)
		}
		var typ, text, url, fileID providers.Value
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(s.Key(k)) {
			case "type":
				typ = s.Value()
			case "text", "refusal":
				text = s.Value()
			case "image_url":
				url = s.Value()
			case "file_id":
				fileID = s.Value()
			}
		}
		if err := s.Err(); err != nil {
			return err
		}
		switch {
		case typ.Equal(b, "input_text"), typ.Equal(b, "output_text"), typ.Equal(b, "refusal"):
			if text.Kind != providers.KindString {
				return providers.ErrType
			}
			r.addPart(Part{Kind: PartText, Text: lit(text)})
		case typ.Equal(b, "input_image"):
			if url.Kind != providers.KindString || fileID.Kind == providers.KindString {
				return ErrUnsupported // a file id lives on OpenAI's side
			}
			r.addPart(Part{Kind: PartImage, URL: url})
		default:
			return ErrUnsupported
		}
	}
	return s.Err()
}

// responsesResultParts accepts a function_call_output given as parts:
// input_text only (the hub writes them as text blocks).
func responsesResultParts(body []byte, v providers.Value) error {
	s := scanAt(body, v)
	arr := s.Array()
	for arr.Next() {
		text, typ, err := partFields(&s)
		if err != nil {
			return err
		}
		if !typ.Equal(body, "input_text") || text.Kind != providers.KindString {
			return ErrUnsupported
		}
	}
	return s.Err()
}

func responsesTools(r *Request, v providers.Value) error {
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
		var t Tool
		var typ providers.Value
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(s.Key(k)) {
			case "type":
				typ = s.Value()
			case "name":
				t.Name = s.Value()
			case "description":
				t.Description = s.Value()
			case "parameters":
				t.Schema = s.Value()
			case "strict":
				t.Strict = s.Value()
			}
		}
		if !typ.Equal(b, "function") {
			return unsupported("tools[" + strconv.Itoa(arr.Index()) + "].type")
		}
		if t.Name.Kind != providers.KindString {
			return fieldErr("tools", providers.ErrType)
		}
		r.Tools = append(r.Tools, t)
	}
	return fieldErr("tools", s.Err())
}

func responsesChoice(r *Request, v providers.Value) error {
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
		if !member(b, v, "type").Equal(b, "function") {
			return unsupported("tool_choice.type")
		}
		r.Choice, r.ChoiceName = ChoiceNamed, member(b, v, "name")
		if r.ChoiceName.Kind != providers.KindString {
			return fieldErr("tool_choice.name", providers.ErrType)
		}
	default:
		return unsupported("tool_choice")
	}
	return nil
}

// responsesFormat reads text.format: {"type":"text"|"json_object"|
// "json_schema","name","description","schema","strict"} (flat, unlike
// chat's response_format).
func responsesFormat(r *Request, f providers.Value) error {
	b := r.Body
	switch typ := member(b, f, "type"); {
	case typ.Equal(b, "text"):
	case typ.Equal(b, "json_object"):
		r.Format = Format{Kind: FormatJSONObject, Field: "text.format"}
	case typ.Equal(b, "json_schema"):
		r.Format = Format{Kind: FormatJSONSchema, Field: "text.format", Name: member(b, f, "name"),
			Description: member(b, f, "description"), Schema: member(b, f, "schema"), Strict: member(b, f, "strict")}
		if r.Format.Schema.Kind != providers.KindObject {
			return fieldErr("text.format.schema", providers.ErrType)
		}
	default:
		return unsupported("text.format.type")
	}
	return nil
}
