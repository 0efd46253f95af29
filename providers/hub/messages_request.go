package hub

import (
	"bytes"
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// DecodeMessages reads an Anthropic Messages request into r.
//
// system (a string or text blocks) becomes System texts; text, image,
// tool_use and tool_result blocks become parts; thinking and
// redacted_thinking blocks are dropped (another model cannot read them);
// output_config.format json_schema becomes the output format. Refused (400
// naming the field): document and other block types, server tools (a tool
// with a type), images inside tool results.
func DecodeMessages(r *Request, body []byte) error {
	r.Reset(body)
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(&s)
	}
	var messages, system, maxTokens, stop, tools, choice, outCfg, metadata providers.Value
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
		case "system":
			system = s.Value()
		case "max_tokens":
			maxTokens = s.Value()
		case "temperature":
			r.Temperature = s.Value()
		case "top_p":
			r.TopP = s.Value()
		case "stop_sequences":
			stop = s.Value()
		case "stream":
			r.Stream = readBool(s.Value())
		case "tools":
			tools = s.Value()
		case "tool_choice":
			choice = s.Value()
		case "metadata":
			metadata = s.Value()
		case "output_config":
			outCfg = s.Value()
		case "output_format":
			return unsupported("output_format")
		}
	}
	if err := s.Finish(); err != nil {
		return err
	}
	var err error
	if r.MaxTokens, err = readCount(body, maxTokens, "max_tokens"); err != nil {
		return err
	}
	if err := readStop(r, stop, "stop_sequences"); err != nil {
		return err
	}
	r.User = member(body, metadata, "user_id")
	switch system.Kind {
	case providers.KindString:
		r.System = append(r.System, lit(system))
	case providers.KindArray:
		if err := messagesSystem(r, system); err != nil {
			return fieldErr("system", err)
		}
	case providers.KindNull, providers.KindInvalid:
	default:
		return fieldErr("system", providers.ErrType)
	}
	if messages.Kind != providers.KindArray {
		return fieldErr("messages", providers.ErrType)
	}
	s.Seek(messages.Start)
	arr := s.Array()
	for arr.Next() {
		if err := messagesMessage(r, &s); err != nil {
			return fieldErr("messages", err)
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	if err := messagesTools(r, tools); err != nil {
		return err
	}
	if err := messagesChoice(r, choice); err != nil {
		return err
	}
	if f := member(body, outCfg, "format"); f.Kind == providers.KindObject {
		if !member(body, f, "type").Equal(body, "json_schema") {
			return unsupported("output_config.format.type")
		}
		r.Format = Format{Kind: FormatJSONSchema, Field: "output_config.format", Schema: member(body, f, "schema")}
		if r.Format.Schema.Kind != providers.KindObject {
			return fieldErr("output_config.format.schema", providers.ErrType)
		}
	}
	return nil
}

func messagesSystem(r *Request, v providers.Value) error {
	s := scanAt(r.Body, v)
	arr := s.Array()
	for arr.Next() {
		text, typ, err := partFields(&s)
		if err != nil {
			return err
		}
		if !typ.Equal(r.Body, "text") || text.Kind != providers.KindString {
			return ErrUnsupported
		}
		r.System = append(r.System, lit(text))
	}
	return s.Err()
}

// block is the members of an Anthropic content block the hub reads.
type block struct {
	typ, text, id, name, input, toolUseID, content, source, isError providers.Value
}

func readBlock(s *providers.Scanner, bl *block) error {
	*bl = block{}
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(s)
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "type":
			bl.typ = s.Value()
		case "text":
			bl.text = s.Value()
		case "id":
			bl.id = s.Value()
		case "name":
			bl.name = s.Value()
		case "input":
			bl.input = s.Value()
		case "tool_use_id":
			bl.toolUseID = s.Value()
		case "content":
			bl.content = s.Value()
		case "source":
			bl.source = s.Value()
		case "is_error":
			bl.isError = s.Value()
		}
	}
	return s.Err()
}

func messagesMessage(r *Request, s *providers.Scanner) error {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(s)
	}
	var role, content providers.Value
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
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	b := r.Body
	var rl Role
	switch {
	case role.Equal(b, "user"):
		rl = User
	case role.Equal(b, "assistant"):
		rl = Assistant
	default:
		return ErrUnsupported
	}
	from := len(r.Parts)
	switch content.Kind {
	case providers.KindString:
		r.addPart(Part{Kind: PartText, Text: lit(content)})
	case providers.KindArray:
		cs := scanAt(b, content)
		arr := cs.Array()
		var bl block
		for arr.Next() {
			if err := readBlock(&cs, &bl); err != nil {
				return err
			}
			if err := messagesBlock(r, &bl); err != nil {
				return err
			}
		}
		if err := cs.Err(); err != nil {
			return err
		}
	default:
		return providers.ErrType
	}
	r.endMessage(rl, from)
	return nil
}

func messagesBlock(r *Request, bl *block) error {
	b := r.Body
	switch {
	case bl.typ.Equal(b, "text"):
		if bl.text.Kind != providers.KindString {
			return providers.ErrType
		}
		r.addPart(Part{Kind: PartText, Text: lit(bl.text)})
	case bl.typ.Equal(b, "image"):
		p := Part{Kind: PartImage}
		src := bl.source
		switch typ := member(b, src, "type"); {
		case typ.Equal(b, "base64"):
			p.MediaType, p.Data = member(b, src, "media_type"), member(b, src, "data")
			if p.MediaType.Kind != providers.KindString || p.Data.Kind != providers.KindString {
				return providers.ErrType
			}
		case typ.Equal(b, "url"):
			p.URL = member(b, src, "url")
			if p.URL.Kind != providers.KindString {
				return providers.ErrType
			}
		default:
			return ErrUnsupported
		}
		r.addPart(p)
	case bl.typ.Equal(b, "tool_use"):
		if bl.id.Kind != providers.KindString || bl.name.Kind != providers.KindString {
			return providers.ErrType
		}
		if bl.input.Kind != providers.KindObject && bl.input.Kind != providers.KindInvalid {
			return providers.ErrType
		}
		r.addPart(Part{Kind: PartToolCall, ID: bl.id, Name: bl.name, Args: bl.input})
	case bl.typ.Equal(b, "tool_result"):
		if bl.toolUseID.Kind != providers.KindString {
			return providers.ErrType
		}
		p := Part{Kind: PartToolResult, ID: bl.toolUseID, IsError: readBool(bl.isError)}
		switch bl.content.Kind {
		case providers.KindString:
			p.Text = lit(bl.content)
		case providers.KindArray:
			if err := checkTextBlocks(b, bl.content); err != nil {
				return err
			}
			p.Result = bl.content
		case providers.KindInvalid, providers.KindNull:
		default:
			return providers.ErrType
		}
		r.addPart(p)
	case bl.typ.Equal(b, "thinking"), bl.typ.Equal(b, "redacted_thinking"):
		// The model's own reasoning, signed for Claude: another model
		// cannot take it back.
	default:
		return ErrUnsupported
	}
	return nil
}

func messagesTools(r *Request, v providers.Value) error {
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
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(s.Key(k)) {
			case "name":
				t.Name = s.Value()
			case "description":
				t.Description = s.Value()
			case "input_schema":
				t.Schema = s.Value()
			case "strict":
				t.Strict = s.Value()
			case "type":
				if v := s.Value(); !v.Equal(b, "custom") && !v.IsNull() {
					return unsupported("tools[" + strconv.Itoa(arr.Index()) + "].type")
				}
			}
		}
		if t.Name.Kind != providers.KindString {
			return fieldErr("tools", providers.ErrType)
		}
		r.Tools = append(r.Tools, t)
	}
	return fieldErr("tools", s.Err())
}

func messagesChoice(r *Request, v providers.Value) error {
	if v.Kind == providers.KindInvalid || v.IsNull() {
		return nil
	}
	if v.Kind != providers.KindObject {
		return fieldErr("tool_choice", providers.ErrType)
	}
	b := r.Body
	switch typ := member(b, v, "type"); {
	case typ.Equal(b, "auto"):
		r.Choice = ChoiceAuto
	case typ.Equal(b, "none"):
		r.Choice = ChoiceNone
	case typ.Equal(b, "any"):
		r.Choice = ChoiceRequired
	case typ.Equal(b, "tool"):
		r.Choice, r.ChoiceName = ChoiceNamed, member(b, v, "name")
		if r.ChoiceName.Kind != providers.KindString {
			return fieldErr("tool_choice.name", providers.ErrType)
		}
	default:
		return unsupported("tool_choice.type")
	}
	if member(b, v, "disable_parallel_tool_use").Kind == providers.KindTrue {
		r.ParallelTools = False
	}
	return nil
}

// EncodeMessages writes r as an Anthropic Messages request. Consecutive
// messages of one role are merged (the API wants them alternating), blank
// texts dropped (it refuses them), temperature clamped to its 0..1.
// Anthropic requires max_tokens: without a client cap Options.
// DefaultMaxTokens is written, and with neither it is ErrNoMaxTokens.
func EncodeMessages(dst []byte, r *Request, o Options) ([]byte, error) {
	b := r.Body
	if r.Format.Kind == FormatJSONObject {
		return dst, unsupported(r.Format.Field + ".type")
	}
	maxTokens := o.cap(r)
	if maxTokens <= 0 {
		return dst, ErrNoMaxTokens
	}
	dst = append(dst, `{"model":`...)
	var err error
	if dst, err = appendModel(dst, b, r, &o); err != nil {
		return dst, err
	}
	dst = append(dst, `,"max_tokens":`...)
	dst = strconv.AppendInt(dst, maxTokens, 10)
	nsys := 0
	for _, sys := range r.System {
		if sys.blank(b) {
			continue
		}
		if nsys == 0 {
			dst = append(dst, `,"system":[`...)
		} else {
			dst = append(dst, ',')
		}
		nsys++
		dst = append(dst, `{"type":"text","text":`...)
		dst = sys.appendJSON(dst, b)
		dst = append(dst, '}')
	}
	if nsys > 0 {
		dst = append(dst, ']')
	}
	dst = append(dst, `,"messages":[`...)
	var prev Role
	blocks := 0
	for _, m := range r.Messages {
		for i := m.From; i < m.To; i++ {
			p := &r.Parts[i]
			if p.Kind == PartText && p.Text.blank(b) {
				continue
			}
			if prev != m.Role {
				if prev != 0 {
					dst = append(dst, "]},"...)
				}
				dst = append(dst, `{"role":"`...)
				dst = append(dst, m.Role.String()...)
				dst = append(dst, `","content":[`...)
				prev, blocks = m.Role, 0
			}
			if blocks > 0 {
				dst = append(dst, ',')
			}
			blocks++
			if dst, err = appendBlock(dst, b, p); err != nil {
				return dst, fieldErr("messages", err)
			}
		}
	}
	if prev != 0 {
		dst = append(dst, "]}"...)
	}
	dst = append(dst, ']')
	if len(r.Stop) > 0 {
		dst = append(dst, `,"stop_sequences":[`...)
		for i, v := range r.Stop {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, v.Raw(b)...)
		}
		dst = append(dst, ']')
	}
	if v := r.Temperature; v.Kind == providers.KindNumber {
		f, err := strconv.ParseFloat(string(v.Raw(b)), 64)
		if err != nil {
			return dst, fieldErr("temperature", providers.ErrType)
		}
		dst = append(dst, `,"temperature":`...)
		if f > 1 {
			dst = append(dst, '1')
		} else {
			dst = append(dst, v.Raw(b)...)
		}
	} else if v.Kind != providers.KindInvalid && !v.IsNull() {
		return dst, fieldErr("temperature", providers.ErrType)
	}
	if v := r.TopP; v.Kind == providers.KindNumber {
		dst = append(dst, `,"top_p":`...)
		dst = append(dst, v.Raw(b)...)
	} else if v.Kind != providers.KindInvalid && !v.IsNull() {
		return dst, fieldErr("top_p", providers.ErrType)
	}
	if r.Stream {
		dst = append(dst, `,"stream":true`...)
	}
	if len(r.Tools) > 0 {
		dst = append(dst, `,"tools":[`...)
		for i, t := range r.Tools {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = append(dst, t.Name.Raw(b)...)
			if t.Description.Kind == providers.KindString {
				dst = append(dst, `,"description":`...)
				dst = append(dst, t.Description.Raw(b)...)
			}
			dst = append(dst, `,"input_schema":`...)
			dst = appendSchema(dst, b, t.Schema)
			if t.Strict.Kind == providers.KindTrue {
				dst = append(dst, `,"strict":true`...)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	disable := r.ParallelTools == False
	switch r.Choice {
	case ChoiceAuto:
		dst = appendChoice(dst, b, "auto", providers.Value{}, disable)
	case ChoiceNone:
		dst = append(dst, `,"tool_choice":{"type":"none"}`...)
	case ChoiceRequired:
		dst = appendChoice(dst, b, "any", providers.Value{}, disable)
	case ChoiceNamed:
		dst = appendChoice(dst, b, "tool", r.ChoiceName, disable)
	default:
		if disable && len(r.Tools) > 0 {
			dst = appendChoice(dst, b, "auto", providers.Value{}, true)
		}
	}
	if r.Format.Kind == FormatJSONSchema {
		dst = append(dst, `,"output_config":{"format":{"type":"json_schema","schema":`...)
		dst = append(dst, r.Format.Schema.Raw(b)...)
		dst = append(dst, "}}"...)
	}
	if r.User.Kind == providers.KindString {
		dst = append(dst, `,"metadata":{"user_id":`...)
		dst = append(dst, r.User.Raw(b)...)
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

func appendChoice(dst, b []byte, typ string, name providers.Value, disableParallel bool) []byte {
	dst = append(dst, `,"tool_choice":{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, '"')
	if name.Kind == providers.KindString {
		dst = append(dst, `,"name":`...)
		dst = append(dst, name.Raw(b)...)
	}
	if disableParallel {
		dst = append(dst, `,"disable_parallel_tool_use":true`...)
	}
	return append(dst, '}')
}

// appendBlock writes one part as an Anthropic content block.
func appendBlock(dst, b []byte, p *Part) ([]byte, error) {
	switch p.Kind {
	case PartText:
		dst = append(dst, `{"type":"text","text":`...)
		dst = p.Text.appendJSON(dst, b)
		return append(dst, '}'), nil
	case PartImage:
		if p.URL.Kind != providers.KindString {
			dst = append(dst, `{"type":"image","source":{"type":"base64","media_type":`...)
			dst = append(dst, p.MediaType.Raw(b)...)
			dst = append(dst, `,"data":`...)
			dst = append(dst, p.Data.Raw(b)...)
			return append(dst, "}}"...), nil
		}
		text, err := p.URL.Text(nil, b)
		if err != nil {
			return dst, err
		}
		if bytes.HasPrefix(text, []byte("data:")) {
			mediaType, data, ok := dataURL(text)
			if !ok {
				return dst, ErrUnsupported
			}
			dst = append(dst, `{"type":"image","source":{"type":"base64","media_type":`...)
			dst = providers.AppendString(dst, mediaType)
			dst = append(dst, `,"data":`...)
			dst = providers.AppendString(dst, data)
			return append(dst, "}}"...), nil
		}
		dst = append(dst, `{"type":"image","source":{"type":"url","url":`...)
		dst = providers.AppendString(dst, text)
		return append(dst, "}}"...), nil
	case PartToolCall:
		dst = append(dst, `{"type":"tool_use","id":`...)
		dst = append(dst, p.ID.Raw(b)...)
		dst = append(dst, `,"name":`...)
		dst = append(dst, p.Name.Raw(b)...)
		dst = append(dst, `,"input":`...)
		var err error
		if dst, err = appendArgsObject(dst, b, p.Args); err != nil {
			return dst, err
		}
		return append(dst, '}'), nil
	case PartToolResult:
		dst = append(dst, `{"type":"tool_result","tool_use_id":`...)
		dst = append(dst, p.ID.Raw(b)...)
		switch {
		case p.Result.Kind == providers.KindArray:
			dst = append(dst, `,"content":[`...)
			s := scanAt(b, p.Result)
			arr := s.Array()
			k := 0
			for arr.Next() {
				text, _, _ := partFields(&s)
				if text.Kind != providers.KindString || blankLiteral(text.Raw(b)) {
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
			dst = append(dst, `,"content":`...)
			dst = p.Text.appendJSON(dst, b)
		}
		if p.IsError {
			dst = append(dst, `,"is_error":true`...)
		}
		return append(dst, '}'), nil
	}
	return dst, ErrUnsupported
}

// appendArgsObject writes tool arguments as the JSON object Anthropic
// expects: an object is copied, a string literal decoded and checked.
func appendArgsObject(dst, b []byte, args providers.Value) ([]byte, error) {
	switch args.Kind {
	case providers.KindObject:
		return append(dst, args.Raw(b)...), nil
	case providers.KindNull, providers.KindInvalid:
		return append(dst, "{}"...), nil
	case providers.KindString:
	default:
		return dst, providers.ErrType
	}
	mark := len(dst)
	dst, err := args.Text(dst, b)
	if err != nil {
		return dst[:mark], err
	}
	text := bytes.TrimSpace(dst[mark:])
	if len(text) == 0 {
		return append(dst[:mark], "{}"...), nil
	}
	s := providers.NewScanner(text)
	if s.Peek() != providers.KindObject {
		return dst[:mark], ErrToolArguments
	}
	s.Skip()
	if s.Finish() != nil {
		return dst[:mark], ErrToolArguments
	}
	n := copy(dst[mark:], text)
	return dst[:mark+n], nil
}
