package anthropic

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// FromOpenAIChat translates an OpenAI chat completions request into an
// Anthropic Messages request, appended to dst. opt applies as in
// RewriteRequest: Model replaces the request's model (pass the model the
// policy resolved, always), Prepend adds policy messages, DefaultMaxTokens
// fills max_tokens when the client set no cap (the API requires one; with
// neither, ErrNoMaxTokens).
//
// The body is read with the same exact-key scanner as openai.RequestTexts,
// so the translation sees the texts the content rules saw.
//
// Mapping:
//   - policy system prompts come first in system; other policy messages
//     open the conversation (merged with a first message of their role);
//   - system and developer messages, wherever they are, become system text
//     blocks, after the policy's; user and assistant content (a string, or
//     text and refusal parts) become text blocks; blank texts are dropped
//     (the API refuses them);
//   - image_url parts become image blocks (a data: URL as a base64 source,
//     any other URL as a url source); audio and file parts are refused
//     with ErrUnsupported, as are n > 1, non-function tools and the legacy
//     functions API (role function);
//   - assistant tool_calls become tool_use blocks, their arguments string
//     parsed into the input object (empty means {}; anything but a JSON
//     object is ErrToolArguments); tool messages become tool_result blocks
//     in a user message (tool_call_id → tool_use_id);
//   - consecutive messages of one role are merged into one message;
//   - max_completion_tokens or max_tokens (the larger) → max_tokens;
//     temperature (clamped to Anthropic's 0..1), top_p, stop (string or
//     array) → stop_sequences, stream, user → metadata.user_id;
//   - tools (function) → {name, description, input_schema}; tool_choice
//     auto → auto, none → none, required → any, a named function → tool;
//     parallel_tool_calls false → disable_parallel_tool_use.
//
// Other fields (response_format, logprobs, seed, reasoning_effort, ...)
// have no Anthropic equivalent and are dropped.
func FromOpenAIChat(dst, body []byte, opt Rewrite) ([]byte, error) {
	var t translation
	t.body = body
	t.prepend = opt.Prepend
	if err := t.read(); err != nil {
		return dst, err
	}
	return t.write(dst, &opt)
}

// translation holds the spans of one OpenAI request.
type translation struct {
	body                          []byte
	model, messages, maxTokens    providers.Value
	maxCompletion, temperature    providers.Value
	topP, stop, stream, tools     providers.Value
	toolChoice, parallel, user, n providers.Value
	prepend                       []providers.Message
	system                        []providers.Value // system texts (literals)
	msgs                          []outMsg
	blocks                        []byte // content blocks of msgs, comma-joined per message
}

type outMsg struct {
	role       string
	start, end int // span in blocks
}

// read collects the top-level fields and converts the messages.
func (t *translation) read() error {
	s := providers.NewScanner(t.body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(&s)
	}
	var seen uint32
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		name := s.Key(k)
		var dst *providers.Value
		var bit uint32
		switch string(name) {
		case "model":
			dst, bit = &t.model, 1<<0
		case "messages":
			dst, bit = &t.messages, 1<<1
		case "max_tokens":
			dst, bit = &t.maxTokens, 1<<2
		case "max_completion_tokens":
			dst, bit = &t.maxCompletion, 1<<3
		case "temperature":
			dst, bit = &t.temperature, 1<<4
		case "top_p":
			dst, bit = &t.topP, 1<<5
		case "stop":
			dst, bit = &t.stop, 1<<6
		case "stream":
			dst, bit = &t.stream, 1<<7
		case "tools":
			dst, bit = &t.tools, 1<<8
		case "tool_choice":
			dst, bit = &t.toolChoice, 1<<9
		case "parallel_tool_calls":
			dst, bit = &t.parallel, 1<<10
		case "user":
			dst, bit = &t.user, 1<<11
		case "n":
			dst, bit = &t.n, 1<<12
		case "functions":
			s.Skip()
			return fieldErr("functions", ErrUnsupported)
		default:
			continue
		}
		if seen&bit != 0 {
			return fieldErr(string(name), providers.ErrDupField)
		}
		seen |= bit
		*dst = s.Value()
	}
	if err := s.Finish(); err != nil {
		return err
	}
	if t.messages.Kind != providers.KindArray {
		return fieldErr("messages", providers.ErrType)
	}
	// Policy messages open the conversation and merge with a first client
	// message of the same role like any other.
	for _, m := range t.prepend {
		if m.IsSystem() || strings.TrimSpace(m.Content) == "" {
			continue
		}
		role := RoleUser
		if m.Role == RoleAssistant {
			role = RoleAssistant
		}
		start := len(t.blocks)
		t.blocks = append(t.blocks, `{"type":"text","text":`...)
		t.blocks = providers.AppendStringText(t.blocks, m.Content)
		t.blocks = append(t.blocks, '}')
		t.add(role, start)
	}
	s.Seek(t.messages.Start)
	arr := s.Array()
	for arr.Next() {
		if err := t.message(&s); err != nil {
			return fieldErr("messages", err)
		}
	}
	return s.Err()
}

// message converts one OpenAI message.
func (t *translation) message(s *providers.Scanner) error {
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
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	b := t.body
	switch {
	case role.Equal(b, "system"), role.Equal(b, "developer"):
		return t.systemContent(content)
	case role.Equal(b, "user"):
		start := len(t.blocks)
		if err := t.userContent(start, content); err != nil {
			return err
		}
		t.add(RoleUser, start)
	case role.Equal(b, "assistant"):
		start := len(t.blocks)
		if err := t.userContent(start, content); err != nil {
			return err
		}
		if err := t.toolUses(start, toolCalls); err != nil {
			return err
		}
		t.add(RoleAssistant, start)
	case role.Equal(b, "tool"):
		start := len(t.blocks)
		if err := t.toolResult(start, toolCallID, content); err != nil {
			return err
		}
		t.add(RoleUser, start)
	default:
		return ErrUnsupported
	}
	return nil
}

// add records the blocks written since start as a message, merging it into
// the previous one when the role repeats.
func (t *translation) add(role string, start int) {
	if start == len(t.blocks) {
		return // nothing left after dropping blank texts
	}
	if n := len(t.msgs); n > 0 && t.msgs[n-1].role == role && t.msgs[n-1].end == start {
		// Blocks are comma-joined: shift the new run to make room for the
		// separator between the two runs.
		t.blocks = append(t.blocks, 0)
		copy(t.blocks[start+1:], t.blocks[start:])
		t.blocks[start] = ','
		t.msgs[n-1].end = len(t.blocks)
		return
	}
	t.msgs = append(t.msgs, outMsg{role: role, start: start, end: len(t.blocks)})
}

// sep writes a comma before a block unless it starts the message's run.
func (t *translation) sep(start int) {
	if len(t.blocks) > start {
		t.blocks = append(t.blocks, ',')
	}
}

func (t *translation) systemContent(v providers.Value) error {
	switch v.Kind {
	case providers.KindString:
		if !blankLiteral(v.Raw(t.body)) {
			t.system = append(t.system, v)
		}
	case providers.KindArray:
		s := providers.NewScanner(t.body)
		s.Seek(v.Start)
		arr := s.Array()
		for arr.Next() {
			text, typ, err := partFields(&s)
			if err != nil {
				return err
			}
			if typ.Kind == providers.KindString && !typ.Equal(t.body, "text") {
				return ErrUnsupported
			}
			if text.Kind == providers.KindString && !blankLiteral(text.Raw(t.body)) {
				t.system = append(t.system, text)
			}
		}
		return s.Err()
	case providers.KindNull, providers.KindInvalid:
	default:
		return providers.ErrType
	}
	return nil
}

// partFields reads a content part object: its text (or refusal) and type.
// image_url parts return the image_url value as text.
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

// userContent writes text (and image) blocks for a user or assistant
// content.
func (t *translation) userContent(start int, v providers.Value) error {
	switch v.Kind {
	case providers.KindString:
		t.textBlock(start, v)
	case providers.KindArray:
		s := providers.NewScanner(t.body)
		s.Seek(v.Start)
		arr := s.Array()
		for arr.Next() {
			text, typ, err := partFields(&s)
			if err != nil {
				return err
			}
			b := t.body
			switch {
			case typ.Equal(b, "text"), typ.Equal(b, "refusal"):
				if text.Kind != providers.KindString {
					return providers.ErrType
				}
				t.textBlock(start, text)
			case typ.Equal(b, "image_url"):
				if err := t.imageBlock(start, text); err != nil {
					return err
				}
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

func (t *translation) textBlock(start int, lit providers.Value) {
	if blankLiteral(lit.Raw(t.body)) {
		return
	}
	t.sep(start)
	t.blocks = append(t.blocks, `{"type":"text","text":`...)
	t.blocks = append(t.blocks, lit.Raw(t.body)...)
	t.blocks = append(t.blocks, '}')
}

// imageBlock converts an image_url value ({"url": ...} or a bare string).
func (t *translation) imageBlock(start int, v providers.Value) error {
	url := v
	if v.Kind == providers.KindObject {
		s := providers.NewScanner(t.body)
		s.Seek(v.Start)
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			if string(s.Key(k)) == "url" {
				url = s.Value()
			}
		}
		if err := s.Err(); err != nil {
			return err
		}
	}
	if url.Kind != providers.KindString {
		return providers.ErrType
	}
	text, err := url.Text(nil, t.body)
	if err != nil {
		return err
	}
	t.sep(start)
	if rest, ok := bytes.CutPrefix(text, []byte("data:")); ok {
		meta, data, ok := bytes.Cut(rest, []byte(","))
		mediaType, isBase64 := bytes.CutSuffix(meta, []byte(";base64"))
		if !ok || !isBase64 {
			return ErrUnsupported
		}
		t.blocks = append(t.blocks, `{"type":"image","source":{"type":"base64","media_type":`...)
		t.blocks = providers.AppendString(t.blocks, mediaType)
		t.blocks = append(t.blocks, `,"data":`...)
		t.blocks = providers.AppendString(t.blocks, data)
		t.blocks = append(t.blocks, "}}"...)
		return nil
	}
	t.blocks = append(t.blocks, `{"type":"image","source":{"type":"url","url":`...)
	t.blocks = providers.AppendString(t.blocks, text)
	t.blocks = append(t.blocks, "}}"...)
	return nil
}

// toolUses converts an assistant's tool_calls.
func (t *translation) toolUses(start int, v providers.Value) error {
	if v.Kind != providers.KindArray {
		return nil
	}
	s := providers.NewScanner(t.body)
	s.Seek(v.Start)
	arr := s.Array()
	for arr.Next() {
		var id, fn providers.Value
		if s.Peek() != providers.KindObject {
			s.Skip()
			return errOrType(&s)
		}
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
				if !s.Value().Equal(t.body, "function") {
					return ErrUnsupported
				}
			}
		}
		if err := s.Err(); err != nil {
			return err
		}
		name, args, err := t.functionFields(fn)
		if err != nil {
			return err
		}
		if id.Kind != providers.KindString || name.Kind != providers.KindString {
			return providers.ErrType
		}
		input, err := toolInput(t.body, args)
		if err != nil {
			return err
		}
		t.sep(start)
		t.blocks = append(t.blocks, `{"type":"tool_use","id":`...)
		t.blocks = append(t.blocks, id.Raw(t.body)...)
		t.blocks = append(t.blocks, `,"name":`...)
		t.blocks = append(t.blocks, name.Raw(t.body)...)
		t.blocks = append(t.blocks, `,"input":`...)
		t.blocks = append(t.blocks, input...)
		t.blocks = append(t.blocks, '}')
	}
	return s.Err()
}

func (t *translation) functionFields(fn providers.Value) (name, args providers.Value, err error) {
	if fn.Kind != providers.KindObject {
		return name, args, providers.ErrType
	}
	s := providers.NewScanner(t.body)
	s.Seek(fn.Start)
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "name":
			name = s.Value()
		case "arguments":
			args = s.Value()
		}
	}
	return name, args, s.Err()
}

// toolInput decodes a tool call's arguments string into the JSON object
// Anthropic expects.
func toolInput(body []byte, args providers.Value) ([]byte, error) {
	if args.Kind == providers.KindNull || args.Kind == providers.KindInvalid {
		return []byte("{}"), nil
	}
	if args.Kind != providers.KindString {
		return nil, providers.ErrType
	}
	text, err := args.Text(nil, body)
	if err != nil {
		return nil, err
	}
	text = bytes.TrimSpace(text)
	if len(text) == 0 {
		return []byte("{}"), nil
	}
	s := providers.NewScanner(text)
	if s.Peek() != providers.KindObject {
		return nil, ErrToolArguments
	}
	s.Skip()
	if s.Finish() != nil {
		return nil, ErrToolArguments
	}
	return text, nil
}

// toolResult writes a tool_result block for a tool message.
func (t *translation) toolResult(start int, id, content providers.Value) error {
	if id.Kind != providers.KindString {
		return providers.ErrType
	}
	t.sep(start)
	t.blocks = append(t.blocks, `{"type":"tool_result","tool_use_id":`...)
	t.blocks = append(t.blocks, id.Raw(t.body)...)
	switch content.Kind {
	case providers.KindString:
		t.blocks = append(t.blocks, `,"content":`...)
		t.blocks = append(t.blocks, content.Raw(t.body)...)
	case providers.KindArray:
		t.blocks = append(t.blocks, `,"content":[`...)
		inner := len(t.blocks)
		s := providers.NewScanner(t.body)
		s.Seek(content.Start)
		arr := s.Array()
		for arr.Next() {
			text, typ, err := partFields(&s)
			if err != nil {
				return err
			}
			if !typ.Equal(t.body, "text") || text.Kind != providers.KindString {
				return ErrUnsupported
			}
			t.textBlock(inner, text)
		}
		if err := s.Err(); err != nil {
			return err
		}
		t.blocks = append(t.blocks, ']')
	case providers.KindNull, providers.KindInvalid:
	default:
		return providers.ErrType
	}
	t.blocks = append(t.blocks, '}')
	return nil
}

// blankLiteral reports whether a string literal holds only whitespace.
func blankLiteral(lit []byte) bool {
	for i := 1; i < len(lit)-1; i++ {
		switch lit[i] {
		case ' ', '\t', '\n', '\r':
		case '\\':
			if i+1 < len(lit)-1 && (lit[i+1] == 'n' || lit[i+1] == 't' || lit[i+1] == 'r') {
				i++
				continue
			}
			return false
		default:
			return false
		}
	}
	return true
}

// write emits the Anthropic request.
func (t *translation) write(dst []byte, opt *Rewrite) ([]byte, error) {
	b := t.body
	if t.n.Kind == providers.KindNumber {
		if n, err := t.n.Int(b); err != nil || n > 1 {
			return dst, fieldErr("n", ErrUnsupported)
		}
	}
	maxTokens, err := t.maxOutput()
	if err != nil {
		return dst, err
	}
	if maxTokens == 0 {
		maxTokens = opt.DefaultMaxTokens
	}
	if opt.MaxTokensLimit > 0 && maxTokens > opt.MaxTokensLimit {
		maxTokens = opt.MaxTokensLimit
	}
	if maxTokens <= 0 {
		return dst, ErrNoMaxTokens
	}
	dst = append(dst, `{"model":`...)
	switch {
	case opt.Model != "":
		dst = providers.AppendStringText(dst, opt.Model)
	case t.model.Kind == providers.KindString:
		dst = append(dst, t.model.Raw(b)...)
	default:
		return dst, fieldErr("model", providers.ErrType)
	}
	dst = append(dst, `,"max_tokens":`...)
	dst = strconv.AppendInt(dst, maxTokens, 10)
	dst = t.writeSystem(dst, opt)
	dst = append(dst, `,"messages":[`...)
	first := true
	for _, m := range t.msgs {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `{"role":"`...)
		dst = append(dst, m.role...)
		dst = append(dst, `","content":[`...)
		dst = append(dst, t.blocks[m.start:m.end]...)
		dst = append(dst, "]}"...)
	}
	dst = append(dst, ']')
	if dst, err = t.writeStop(dst); err != nil {
		return dst, err
	}
	if dst, err = t.writeSampling(dst); err != nil {
		return dst, err
	}
	if t.stream.Kind == providers.KindTrue {
		dst = append(dst, `,"stream":true`...)
	}
	if dst, err = t.writeTools(dst); err != nil {
		return dst, err
	}
	if t.user.Kind == providers.KindString {
		dst = append(dst, `,"metadata":{"user_id":`...)
		dst = append(dst, t.user.Raw(b)...)
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

func (t *translation) maxOutput() (int64, error) {
	var out int64
	for _, v := range [2]providers.Value{t.maxTokens, t.maxCompletion} {
		if v.Kind == providers.KindInvalid || v.IsNull() {
			continue
		}
		n, err := v.Int(t.body)
		if err != nil {
			return 0, fieldErr("max_tokens", providers.ErrType)
		}
		if n < 0 {
			return 0, fieldErr("max_tokens", ErrNegative)
		}
		out = max(out, n)
	}
	return out, nil
}

func (t *translation) writeSystem(dst []byte, opt *Rewrite) []byte {
	n := len(t.system)
	for _, m := range opt.Prepend {
		if m.IsSystem() && strings.TrimSpace(m.Content) != "" {
			n++
		}
	}
	if n == 0 {
		return dst
	}
	dst = append(dst, `,"system":[`...)
	first := true
	block := func(dst []byte) []byte {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		return append(dst, `{"type":"text","text":`...)
	}
	for _, m := range opt.Prepend {
		if m.IsSystem() && strings.TrimSpace(m.Content) != "" {
			dst = block(dst)
			dst = providers.AppendStringText(dst, m.Content)
			dst = append(dst, '}')
		}
	}
	for _, v := range t.system {
		dst = block(dst)
		dst = append(dst, v.Raw(t.body)...)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func (t *translation) writeStop(dst []byte) ([]byte, error) {
	b := t.body
	switch t.stop.Kind {
	case providers.KindString:
		dst = append(dst, `,"stop_sequences":[`...)
		dst = append(dst, t.stop.Raw(b)...)
		return append(dst, ']'), nil
	case providers.KindArray:
		dst = append(dst, `,"stop_sequences":[`...)
		s := providers.NewScanner(b)
		s.Seek(t.stop.Start)
		arr := s.Array()
		for arr.Next() {
			v := s.Value()
			if v.Kind != providers.KindString {
				return dst, fieldErr("stop", providers.ErrType)
			}
			if arr.Index() > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, v.Raw(b)...)
		}
		return append(dst, ']'), s.Err()
	case providers.KindNull, providers.KindInvalid:
		return dst, nil
	}
	return dst, fieldErr("stop", providers.ErrType)
}

func (t *translation) writeSampling(dst []byte) ([]byte, error) {
	b := t.body
	if v := t.temperature; v.Kind == providers.KindNumber {
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
	if v := t.topP; v.Kind == providers.KindNumber {
		dst = append(dst, `,"top_p":`...)
		dst = append(dst, v.Raw(b)...)
	} else if v.Kind != providers.KindInvalid && !v.IsNull() {
		return dst, fieldErr("top_p", providers.ErrType)
	}
	return dst, nil
}

func (t *translation) writeTools(dst []byte) ([]byte, error) {
	b := t.body
	if t.tools.Kind == providers.KindArray && !providers.EmptyContainer(b, t.tools) {
		dst = append(dst, `,"tools":[`...)
		s := providers.NewScanner(b)
		s.Seek(t.tools.Start)
		arr := s.Array()
		for arr.Next() {
			if arr.Index() > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = t.tool(dst, &s); err != nil {
				return dst, fieldErr("tools", err)
			}
		}
		if err := s.Err(); err != nil {
			return dst, err
		}
		dst = append(dst, ']')
	}
	disableParallel := t.parallel.Kind == providers.KindFalse
	switch v := t.toolChoice; {
	case v.Equal(b, "auto"):
		dst = appendChoice(dst, "auto", providers.Value{}, b, disableParallel)
	case v.Equal(b, "none"):
		dst = append(dst, `,"tool_choice":{"type":"none"}`...)
	case v.Equal(b, "required"):
		dst = appendChoice(dst, "any", providers.Value{}, b, disableParallel)
	case v.Kind == providers.KindObject:
		name, err := t.choiceName(v)
		if err != nil {
			return dst, fieldErr("tool_choice", err)
		}
		dst = appendChoice(dst, "tool", name, b, disableParallel)
	case v.Kind == providers.KindInvalid || v.IsNull():
		if disableParallel && t.tools.Kind == providers.KindArray {
			dst = appendChoice(dst, "auto", providers.Value{}, b, true)
		}
	default:
		return dst, fieldErr("tool_choice", ErrUnsupported)
	}
	return dst, nil
}

func appendChoice(dst []byte, typ string, name providers.Value, body []byte, disableParallel bool) []byte {
	dst = append(dst, `,"tool_choice":{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, '"')
	if name.Kind == providers.KindString {
		dst = append(dst, `,"name":`...)
		dst = append(dst, name.Raw(body)...)
	}
	if disableParallel {
		dst = append(dst, `,"disable_parallel_tool_use":true`...)
	}
	return append(dst, '}')
}

// choiceName reads {"type":"function","function":{"name":...}}.
func (t *translation) choiceName(v providers.Value) (providers.Value, error) {
	var fn providers.Value
	s := providers.NewScanner(t.body)
	s.Seek(v.Start)
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "function":
			fn = s.Value()
		case "type":
			if !s.Value().Equal(t.body, "function") {
				return providers.Value{}, ErrUnsupported
			}
		}
	}
	if err := s.Err(); err != nil {
		return providers.Value{}, err
	}
	name, _, err := t.functionFields(fn)
	if err != nil {
		return providers.Value{}, err
	}
	if name.Kind != providers.KindString {
		return providers.Value{}, providers.ErrType
	}
	return name, nil
}

// tool converts one tool definition at the scanner.
func (t *translation) tool(dst []byte, s *providers.Scanner) ([]byte, error) {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return dst, errOrType(s)
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
			if !s.Value().Equal(t.body, "function") {
				return dst, ErrUnsupported
			}
		case "function":
			fn = s.Value()
		}
	}
	if err := s.Err(); err != nil {
		return dst, err
	}
	if fn.Kind != providers.KindObject {
		return dst, providers.ErrType
	}
	var name, desc, params providers.Value
	fs := providers.NewScanner(t.body)
	fs.Seek(fn.Start)
	fobj := fs.Object()
	for {
		k, ok := fobj.Next()
		if !ok {
			break
		}
		switch string(fs.Key(k)) {
		case "name":
			name = fs.Value()
		case "description":
			desc = fs.Value()
		case "parameters":
			params = fs.Value()
		}
	}
	if err := fs.Err(); err != nil {
		return dst, err
	}
	if name.Kind != providers.KindString {
		return dst, providers.ErrType
	}
	dst = append(dst, `{"name":`...)
	dst = append(dst, name.Raw(t.body)...)
	if desc.Kind == providers.KindString {
		dst = append(dst, `,"description":`...)
		dst = append(dst, desc.Raw(t.body)...)
	}
	dst = append(dst, `,"input_schema":`...)
	if params.Kind == providers.KindObject {
		dst = append(dst, params.Raw(t.body)...)
	} else {
		dst = append(dst, `{"type":"object","properties":{}}`...)
	}
	return append(dst, '}'), nil
}
