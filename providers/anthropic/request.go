package anthropic

import (
	"fmt"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Roles as they appear on TextRefs. Text inside tool_result blocks has
// RoleTool although Anthropic carries it in a user message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Request is what the gateway needs to know about a Messages request
// before forwarding it.
type Request struct {
	Model     string
	Stream    bool
	MaxTokens int64 // 0 when absent (the API then refuses the request)
	Messages  int
	// PromptEstimate is the offline prompt estimate, already scaled for
	// Claude's tokenizer (providers.AdjustEstimate): texts, tool use
	// inputs and definitions, per-message overhead, image allowance.
	PromptEstimate int64
	// PromptBound is a guaranteed upper bound of the prompt tokens
	// (providers.BoundRequest): text and tool bytes, message framing, images.
	PromptBound int64
}

// OutputCap returns the most output tokens the request can produce.
func (r Request) OutputCap() int64 { return r.MaxTokens }

// Duplicate-check bits of the rewriter (rewrite.go).
const (
	fModel = 1 << iota
	fStream
	fMaxTokens
	fSystem
	fMessages
	fTools
)

// topKeys are the top-level names the gateway reads, rewrites or scans,
// and the ones whose text reaches the model: each must appear once and
// spelled exactly (see providers.Keys).
var topKeys = providers.NewKeys(
	"model", "stream", "max_tokens", "system", "messages", "tools", "tool_choice", "thinking",
	"stop_sequences", "metadata", "container", "mcp_servers", "temperature", "top_p", "top_k",
	"service_tier", "context_management", "output_config", "output_format",
)

// itemKeys are the names read inside messages, content blocks, document
// sources and tool definitions, under the same rule.
var itemKeys = providers.NewKeys(
	"role", "content", "type", "text", "source", "data", "media_type", "input", "name", "id",
	"tool_use_id", "thinking", "signature", "title", "context", "citations", "cited_text", "is_error",
	"cache_control", "description", "input_schema", "url", "file_id", "document_title", "enabled",
	"document_index", "start_char_index", "end_char_index", "search_result_index", "encrypted_content",
	"page_age", "query", "properties", "items", "format", "schema",
)

// ParseRequest reads the fields the gateway acts on and estimates the
// prompt, validating the whole body. Repeated fields among model, stream,
// max_tokens, system, messages and tools are refused
// (providers.ErrDupField).
func ParseRequest(body []byte) (Request, error) {
	var req Request
	w := walker{body: body, estimate: true}
	if err := w.walk(&req); err != nil {
		return req, err
	}
	req.Messages = w.messages
	n := w.messages
	if w.system {
		n++
	}
	req.PromptEstimate = providers.AdjustEstimate(providers.EstimateRequest(w.tokens, n), providers.Anthropic)
	req.PromptBound = w.bound.Total(n, true)
	return req, nil
}

// RequestTexts appends to dst a reference to every text of the request
// that content rules must see: the system prompt (a string or each text
// block), message content (a string, or text blocks), the text of
// tool_result blocks (a string or text blocks; RoleTool), text document
// sources, and every string value inside tool_use inputs (TextToolArgs).
// A tool_use input is a JSON object, not a string, so its member names and
// string leaves are referenced one by one: masking them keeps the object
// valid. So are the fields the provider receives outside the prompt text:
// tool names (FormName), tool_choice's name, JSON-schema member names,
// image and document URLs (FormURL), stop_sequences and metadata
// (TextMeta). Image and PDF data, and thinking blocks (signed by the
// provider; editing them breaks the signature), are not referenced; a
// base64 source of another media type is refused (ErrUncheckable).
//
// Index is the message position (-1 for system) and Part the content block
// position (-1 for a string content).
func RequestTexts(dst []providers.TextRef, body []byte) ([]providers.TextRef, error) {
	from := len(dst)
	w := walker{body: body, refs: dst, collect: true}
	err := w.walk(nil)
	return providers.OrderRequestRefs(w.refs, from), err
}

type walker struct {
	body     []byte
	s        providers.Scanner
	refs     []providers.TextRef
	collect  bool
	estimate bool
	tokens   int64
	bound    providers.Bound
	messages int
	ntexts   int
	system   bool
}

func (w *walker) text(v providers.Value, role, kind string, index, part int) {
	w.ntexts++
	providers.CountText(&w.s, w.ntexts)
	if w.collect {
		w.refs = append(w.refs, v.Ref(role, kind, index, part))
	}
	if w.estimate {
		w.tokens += providers.EstimateLiteral(v.Raw(w.body))
		w.bound.Text(v.Raw(w.body))
	}
}

// ref references a literal the provider receives that is not priced as
// prompt text (names, URLs, stop sequences, metadata).
func (w *walker) ref(v providers.Value, role, kind string, index, part int, form providers.Form) {
	if !w.collect || v.Kind != providers.KindString {
		return
	}
	r := v.Ref(role, kind, index, part)
	r.Form = form
	w.refs = append(w.refs, r)
}

func (w *walker) raw(v providers.Value) {
	if w.estimate {
		w.tokens += providers.EstimateTokens(v.Raw(w.body))
		w.bound.Text(v.Raw(w.body))
	}
}

func fieldErr(name string, err error) error {
	return fmt.Errorf("reading field %q: %w", name, err)
}

func errOrType(s *providers.Scanner) error {
	if err := s.Err(); err != nil {
		return err
	}
	return providers.ErrType
}

func (w *walker) walk(req *Request) error {
	w.s = providers.NewScanner(w.body)
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(s)
	}
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		name := topKeys.Member(s, k, &seen)
		var err error
		switch string(name) {
		case "model":
			v := s.Value()
			if v.Kind != providers.KindString {
				err = errOrType(s)
			} else if req != nil {
				req.Model = v.String(w.body)
			}
		case "stream":
			v := s.Value()
			if !v.IsNull() {
				b, berr := v.Bool()
				if berr != nil {
					err = errOrType(s)
				} else if req != nil {
					req.Stream = b
				}
			}
		case "max_tokens":
			v := s.Value()
			if !v.IsNull() {
				n, ierr := v.Int(w.body)
				switch {
				case ierr != nil:
					err = errOrType(s)
				case n < 0:
					err = ErrNegative
				case req != nil:
					req.MaxTokens = n
				}
			}
		case "system":
			err = w.systemField()
		case "messages":
			err = w.messagesField()
		case "tools":
			w.bound.Tools()
			err = w.toolsField()
		case "output_config", "output_format":
			err = w.outputFormatField(string(name))
		case "tool_choice":
			// {"type":"tool","name":...}: every string is checked as a name
			err = w.fieldTree(providers.TextToolDef, RoleSystem, noKeys, providers.FormName)
		case "stop_sequences", "metadata":
			// read or stored by the provider, not rendered: checked all the same
			err = w.fieldTree(providers.TextMeta, RoleUser, providers.FormText, providers.FormText)
		}
		if err == nil {
			err = s.Err()
		}
		if err != nil {
			return fieldErr(string(name), err)
		}
	}
	return s.Finish()
}

// fieldTree references every string and, unless keyForm is noKeys, every
// member name of a top-level field that is not priced (tool_choice,
// stop_sequences, metadata).
func (w *walker) fieldTree(kind, role string, keyForm, form providers.Form) error {
	s := &w.s
	v := s.Value()
	if !w.collect || v.Kind == providers.KindNull {
		return s.Err()
	}
	from := len(w.refs)
	w.refs = appendTree(w.refs, w.body, v, kind, -1, -1, keyForm, form)
	for i := from; i < len(w.refs); i++ {
		w.refs[i].Role = role
	}
	return s.Err()
}

// systemField reads system: a string or an array of text blocks.
func (w *walker) systemField() error {
	s := &w.s
	switch s.Peek() {
	case providers.KindString:
		w.system = true
		w.text(s.Value(), RoleSystem, providers.TextSystem, -1, -1)
	case providers.KindArray:
		w.system = true
		arr := s.Array()
		for arr.Next() {
			w.block(-1, arr.Index(), RoleSystem, providers.TextSystem)
		}
	case providers.KindNull:
		s.Skip()
	default:
		s.Skip()
		return errOrType(s)
	}
	return s.Err()
}

func (w *walker) messagesField() error {
	s := &w.s
	if s.Peek() != providers.KindArray {
		s.Skip()
		return errOrType(s)
	}
	arr := s.Array()
	for arr.Next() {
		idx := arr.Index()
		w.messages++
		providers.CountMessage(s, w.messages)
		if s.Peek() != providers.KindObject {
			s.Skip()
			return errOrType(s)
		}
		from := len(w.refs)
		role := ""
		var seen uint64
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(itemKeys.Member(s, k, &seen)) {
			case "role":
				role = roleOf(w.body, s.Value())
			case "content":
				w.content(idx, "", providers.TextMessage)
			}
		}
		if role == "" {
			role = RoleUser
		}
		for i := from; i < len(w.refs); i++ {
			if w.refs[i].Role == "" {
				w.refs[i].Role = role
			}
		}
	}
	return s.Err()
}

func roleOf(body []byte, v providers.Value) string {
	switch {
	case v.Equal(body, RoleUser):
		return RoleUser
	case v.Equal(body, RoleAssistant):
		return RoleAssistant
	}
	return v.String(body)
}

// content reads a message content: a string or an array of blocks. An
// empty role is filled in by the caller.
func (w *walker) content(idx int, role, kind string) {
	s := &w.s
	switch s.Peek() {
	case providers.KindString:
		w.text(s.Value(), role, kind, idx, -1)
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			w.block(idx, arr.Index(), role, kind)
		}
	default:
		s.Skip()
	}
}

// block reads one content block. Members come in any order, so the refs of
// a block are kept or dropped once its type is known.
func (w *walker) block(idx, part int, role, kind string) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	from := len(w.refs)
	var typ providers.Value
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(itemKeys.Member(s, k, &seen)) {
		case "type":
			typ = s.Value()
		case "text":
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, role, kind, idx, part)
			}
		case "input":
			// tool_use: reference the member names and string leaves,
			// price the object.
			v := s.Value()
			w.raw(v)
			if w.collect && v.Kind == providers.KindObject {
				w.refs = appendTree(w.refs, w.body, v, providers.TextToolArgs, idx, part, providers.FormText, providers.FormText)
			}
		case "content":
			// tool_result: a string or blocks, spoken by the tool.
			w.content(idx, RoleTool, providers.TextMessage)
		case "source":
			w.source(idx, part, role, kind)
		case "title", "context":
			// document and search_result blocks: rendered with the text
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, role, kind, idx, part)
			}
		case "citations":
			// cited passages and document titles the model reads back
			v := s.Value()
			w.raw(v)
			if w.collect && (v.Kind == providers.KindArray || v.Kind == providers.KindObject) {
				from := len(w.refs)
				w.refs = appendTree(w.refs, w.body, v, kind, idx, part, noKeys, providers.FormText)
				for i := from; i < len(w.refs); i++ {
					w.refs[i].Role = role
				}
			}
		case "name":
			// tool_use: the tool's name, rendered into the prompt
			w.ref(s.Value(), role, providers.TextToolArgs, idx, part, providers.FormName)
		case "thinking", "signature", "data":
			s.Skip()
		}
	}
	switch {
	case typ.Equal(w.body, "image"):
		// Only a URL source holds a text (the URL).
		if w.estimate {
			w.tokens += providers.TokensPerImage
			w.bound.Image()
		}
	case typ.Equal(w.body, "tool_use"):
		for i := from; i < len(w.refs); i++ {
			w.refs[i].Role = RoleAssistant
		}
	case typ.Equal(w.body, "thinking"), typ.Equal(w.body, "redacted_thinking"):
		w.refs = w.refs[:from]
	}
}

// source reads an image or document source: a plain-text source carries
// text in its data member, a URL source its URL; a base64 source must be
// an image or a PDF (binary, forwarded unread).
func (w *walker) source(idx, part int, role, kind string) {
	s := &w.s
	switch s.Peek() {
	case providers.KindObject:
	case providers.KindString:
		// search_result blocks: the source (a URL or a name) is shown to
		// the model with the result
		w.ref(s.Value(), role, kind, idx, part, providers.FormText)
		return
	default:
		s.Skip()
		return
	}
	from := len(w.refs)
	var typ, data, media providers.Value
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(itemKeys.Member(s, k, &seen)) {
		case "type":
			typ = s.Value()
		case "data":
			data = s.Value()
		case "media_type":
			media = s.Value()
		case "url":
			w.urlRef(s.Value(), role, kind, idx, part)
		case "content":
			// source.type "content": a string or text blocks
			w.content(idx, role, kind)
		}
	}
	switch {
	case typ.Equal(w.body, "text") && data.Kind == providers.KindString:
		w.text(data, role, kind, idx, part)
	case typ.Equal(w.body, "base64") && w.collect && !binaryMedia(w.body, media):
		s.Fail(errMediaType)
	}
	for i := from; i < len(w.refs); i++ {
		w.refs[i].Part = part
	}
}

// outputFormatField reads structured output (output_config.format, or the
// beta's top-level output_format): the string values of its JSON schema
// are rendered into the prompt like a tool's. Priced by its JSON text.
func (w *walker) outputFormatField(name string) error {
	s := &w.s
	v := s.Value()
	w.raw(v)
	if !w.collect || v.Kind != providers.KindObject {
		return s.Err()
	}
	t := providers.NewScanner(w.body[:v.End])
	t.Seek(v.Start)
	var seen uint64
	obj := t.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		member := string(itemKeys.Member(&t, k, &seen))
		if name == "output_config" && member == "format" && t.Peek() == providers.KindObject {
			// output_config holds the format one level down.
			var fseen uint64
			fobj := t.Object()
			for {
				fk, ok := fobj.Next()
				if !ok {
					break
				}
				if string(itemKeys.Member(&t, fk, &fseen)) == "schema" {
					w.schemaLeaves(&t)
				}
			}
			continue
		}
		if name == "output_format" && member == "schema" {
			w.schemaLeaves(&t)
		}
	}
	if err := t.Err(); err != nil {
		return err
	}
	return s.Err()
}

func (w *walker) schemaLeaves(t *providers.Scanner) {
	from := len(w.refs)
	w.refs = leaves(w.refs, t, providers.TextToolDef, -1, -1, providers.FormName, providers.FormText)
	for i := from; i < len(w.refs); i++ {
		w.refs[i].Role = RoleSystem
	}
}

// toolsField reads tool definitions: descriptions and the string values of
// input schemas are rendered into the prompt. Priced by their JSON text.
func (w *walker) toolsField() error {
	s := &w.s
	v := s.Value()
	w.raw(v)
	if !w.collect || v.Kind != providers.KindArray {
		return s.Err()
	}
	t := providers.NewScanner(w.body[:v.End])
	t.Seek(v.Start)
	arr := t.Array()
	for arr.Next() {
		if t.Peek() != providers.KindObject {
			t.Skip()
			continue
		}
		var seen uint64
		obj := t.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(itemKeys.Member(&t, k, &seen)) {
			case "description":
				if d := t.Value(); d.Kind == providers.KindString {
					w.refs = append(w.refs, d.Ref(RoleSystem, providers.TextToolDef, -1, arr.Index()))
				}
			case "name":
				if n := t.Value(); n.Kind == providers.KindString {
					r := n.Ref(RoleSystem, providers.TextToolDef, -1, arr.Index())
					r.Form = providers.FormName
					w.refs = append(w.refs, r)
				}
			case "input_schema":
				from := len(w.refs)
				w.refs = leaves(w.refs, &t, providers.TextToolDef, -1, arr.Index(), providers.FormName, providers.FormText)
				for i := from; i < len(w.refs); i++ {
					w.refs[i].Role = RoleSystem
				}
			}
		}
	}
	if err := t.Err(); err != nil {
		return err
	}
	return s.Err()
}

// noKeys is the key form of a walk that leaves member names out (their
// names are the API's own, as in citations).
const noKeys providers.Form = 255

// appendTree appends refs to every string value inside v and, unless
// keyForm is noKeys, every member name.
func appendTree(dst []providers.TextRef, body []byte, v providers.Value, kind string, idx, part int, keyForm, valForm providers.Form) []providers.TextRef {
	s := providers.NewScanner(body[:v.End])
	// Position the scanner on v: a fresh scanner over the prefix, skipping
	// to v.Start, keeps offsets relative to body.
	s.Seek(v.Start)
	return leaves(dst, &s, kind, idx, part, keyForm, valForm)
}

func leaves(dst []providers.TextRef, s *providers.Scanner, kind string, idx, part int, keyForm, valForm providers.Form) []providers.TextRef {
	switch s.Peek() {
	case providers.KindString:
		r := s.Value().Ref(RoleAssistant, kind, idx, part)
		r.Form = valForm
		return append(dst, r)
	case providers.KindObject:
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			// A schema's own words (type, properties, ...) carry nothing.
			if keyForm != noKeys && (keyForm != providers.FormName || !providers.IsSchemaKeyword(s.Body(), k)) {
				r := k.Ref(RoleAssistant, kind, idx, part)
				r.Form = keyForm
				dst = append(dst, r)
			}
			if keyForm == providers.FormName && string(s.Key(k)) == "required" {
				// a schema's required list names properties: masked
				// like their names, it still names them
				dst = leaves(dst, s, kind, idx, part, keyForm, keyForm)
				continue
			}
			dst = leaves(dst, s, kind, idx, part, keyForm, valForm)
		}
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			dst = leaves(dst, s, kind, idx, part, keyForm, valForm)
		}
	default:
		s.Skip()
	}
	return dst
}

// urlRef references an image or document URL the provider fetches. A
// data: URL there is not Anthropic's spelling of an image (base64 sources
// are), so it is read like any URL's text unless it is a known type.
func (w *walker) urlRef(v providers.Value, role, kind string, idx, part int) {
	if !w.collect || v.Kind != providers.KindString {
		return
	}
	d, err := providers.DataURL(w.body, v)
	switch {
	case err != nil:
		w.s.Fail(err)
	case d == providers.DataNone:
		w.ref(v, role, kind, idx, part, providers.FormURL)
	case d == providers.DataText:
		w.ref(v, role, kind, idx, part, providers.FormData)
	}
}

// binaryMedia reports a base64 source's media type the rules need not
// read: an image or a PDF.
func binaryMedia(body []byte, media providers.Value) bool {
	for _, t := range [...]string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"} {
		if media.Equal(body, t) {
			return true
		}
	}
	return false
}
