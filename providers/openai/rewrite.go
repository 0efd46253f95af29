package openai

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Rewrite says how RewriteRequest changes a request. The zero value
// changes nothing.
type Rewrite struct {
	// Model replaces the model (fallbacks, aliases); "" keeps it.
	Model string
	// Prepend adds policy messages before the client's:
	//   - chat: inserted at the start of messages, in order, with their
	//     roles;
	//   - responses: system and developer messages are joined (blank line
	//     between) and put before the existing instructions, since
	//     instructions are re-sent on every turn and not carried over by
	//     previous_response_id; other roles become leading input items (a
	//     string input is turned into an item list);
	//   - completions: all contents are joined and put before the prompt
	//     (each prompt of an array); token-id prompts give ErrUnsupported;
	//   - embeddings: ignored.
	Prepend []providers.Message
	// IncludeUsage sets stream_options.include_usage on streamed chat and
	// completions requests, keeping the other stream_options. Responses
	// streams always report usage.
	IncludeUsage bool
	// DefaultMaxTokens sets an output cap when the request has none, so the
	// budget reservation bounds the output. Ignored for embeddings.
	DefaultMaxTokens int64
	// MaxTokensField names the field DefaultMaxTokens is written to. The
	// defaults: max_completion_tokens for chat (the only one o-series models
	// accept; set "max_tokens" for compatible providers that lack it),
	// max_tokens for completions, max_output_tokens for responses.
	MaxTokensField string
	// MaxTokensLimit, when positive, lowers every output cap the request
	// sets above it (max_tokens, max_completion_tokens, max_output_tokens)
	// to it: the budget clamp. A request without a cap gets DefaultMaxTokens,
	// which the caller keeps at or below the limit.
	MaxTokensLimit int64
}

type opKind uint8

const (
	opModel           opKind = iota + 1
	opPrependMessages        // chat: after '[' of messages
	opPrependItems           // responses: after '[' of input
	opWrapInput              // responses: string input becomes an item list
	opPrefixLiteral          // insert escaped prefix after a literal's opening quote
	opReplaceSystem          // replace null instructions with the system text
	opTrue                   // replace include_usage's value
	opInsertInclude          // after '{' of stream_options
	opStreamOptions          // replace null stream_options
	opMaxValue               // replace a null cap
	opLowerCap               // replace a cap above MaxTokensLimit
	opAddMembers             // before the closing brace
)

type op struct {
	start, end int
	kind       opKind
	nonEmpty   bool // container already has elements: separator needed
}

// rewriter gathers the positions RewriteRequest edits.
type rewriter struct {
	body  []byte
	opt   Rewrite
	ep    Endpoint
	fixed [12]op // edits, without allocating for usual requests
	nops  int
	more  []op // edits past fixed (many completions prompts)

	stream                               bool
	hasCap                               bool
	capNull                              providers.Value
	hasMessages, hasInput, hasInstr      bool
	hasStreamOptions, members            bool
	hasModel                             bool
	soNull, soValue                      providers.Value
	soOpen                               int // stream_options '{' lacking include_usage, or -1
	soNonEmpty                           bool
	closing                              int
	systemText, otherItems, promptPrefix bool
}

// RewriteRequest appends to dst the request with the changes opt asks
// for. It edits bytes in place (the rest of the body is copied unchanged)
// and validates the body as ParseRequest does.
func RewriteRequest(dst, body []byte, endpoint Endpoint, opt Rewrite) ([]byte, error) {
	if !endpoint.valid() {
		return dst, ErrEndpoint
	}
	r := rewriter{body: body, opt: opt, ep: endpoint, soOpen: -1}
	for _, m := range r.opt.Prepend {
		if endpoint == Responses && m.IsSystem() {
			r.systemText = true
		} else {
			r.otherItems = true
		}
	}
	r.promptPrefix = endpoint == Completions && len(r.opt.Prepend) > 0
	if endpoint == Embeddings {
		r.opt.Prepend, r.opt.IncludeUsage, r.opt.DefaultMaxTokens = nil, false, 0
		r.systemText, r.otherItems = false, false
	}
	if r.opt.MaxTokensField == "" {
		r.opt.MaxTokensField = defaultCapField(endpoint)
	}
	if err := r.scan(); err != nil {
		return dst, err
	}
	r.plan()
	ops := r.fixed[:r.nops]
	if len(r.more) > 0 {
		ops = append(ops, r.more...)
	}
	sortOps(ops)
	last := 0
	for _, o := range ops {
		dst = append(dst, body[last:o.start]...)
		dst = r.emit(dst, o)
		last = o.end
	}
	return append(dst, body[last:]...), nil
}

func (r *rewriter) add(o op) {
	if r.nops < len(r.fixed) {
		r.fixed[r.nops] = o
		r.nops++
		return
	}
	r.more = append(r.more, o)
}

func defaultCapField(ep Endpoint) string {
	switch ep {
	case Chat:
		return "max_completion_tokens"
	case Completions:
		return "max_tokens"
	case Responses:
		return "max_output_tokens"
	}
	return ""
}

func sortOps(ops []op) {
	for i := 1; i < len(ops); i++ {
		for j := i; j > 0 && ops[j].start < ops[j-1].start; j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
}

// scan walks the top-level object once, recording edit positions.
func (r *rewriter) scan() error {
	s := providers.NewScanner(r.body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		if err := s.Err(); err != nil {
			return err
		}
		return fieldErr("", providers.ErrType)
	}
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		r.members = true
		name := topKeys.Member(&s, k, &seen)
		if name == nil {
			break
		}
		if err := r.member(&s, string(name)); err != nil {
			return fieldErr(string(name), err)
		}
	}
	end := s.Pos()
	if err := s.Finish(); err != nil {
		return err
	}
	r.closing = providers.InsertPoint(r.body, end)
	return nil
}

func (r *rewriter) member(s *providers.Scanner, name string) error {
	isCap := name == "max_tokens" && (r.ep == Chat || r.ep == Completions) ||
		name == "max_completion_tokens" && r.ep == Chat ||
		name == "max_output_tokens" && r.ep == Responses
	switch {
	case name == "model":
		v := s.Value()
		if v.Kind != providers.KindString {
			return errOrType(s)
		}
		r.hasModel = true
		if r.opt.Model != "" {
			r.add(op{start: v.Start, end: v.End, kind: opModel})
		}
	case name == "stream":
		v := s.Value()
		r.stream = v.Kind == providers.KindTrue
	case name == "stream_options" && r.ep != Embeddings:
		return r.streamOptions(s)
	case isCap:
		v := s.Value()
		if v.IsNull() {
			if name == r.opt.MaxTokensField {
				r.capNull = v
			}
			return s.Err()
		}
		n, err := v.Int(r.body)
		if err != nil {
			return errOrType(s)
		}
		r.hasCap = true
		if r.opt.MaxTokensLimit > 0 && n > r.opt.MaxTokensLimit {
			r.add(op{start: v.Start, end: v.End, kind: opLowerCap})
		}
	case name == "messages" && r.ep == Chat:
		v := s.Value()
		if v.Kind != providers.KindArray {
			return errOrType(s)
		}
		r.hasMessages = true
		if r.otherItems {
			r.add(op{start: v.Start + 1, end: v.Start + 1, kind: opPrependMessages, nonEmpty: !providers.EmptyContainer(r.body, v)})
		}
	case name == "instructions" && r.ep == Responses:
		v := s.Value()
		switch v.Kind {
		case providers.KindString:
			if r.systemText {
				r.add(op{start: v.Start + 1, end: v.Start + 1, kind: opPrefixLiteral, nonEmpty: v.End-v.Start > 2})
			}
		case providers.KindNull:
			if r.systemText {
				r.add(op{start: v.Start, end: v.End, kind: opReplaceSystem})
			}
		default:
			return errOrType(s)
		}
		r.hasInstr = true
	case name == "input" && r.ep == Responses:
		v := s.Value()
		switch v.Kind {
		case providers.KindString:
			if r.otherItems {
				r.add(op{start: v.Start, end: v.End, kind: opWrapInput})
			}
		case providers.KindArray:
			if r.otherItems {
				r.add(op{start: v.Start + 1, end: v.Start + 1, kind: opPrependItems, nonEmpty: !providers.EmptyContainer(r.body, v)})
			}
		default:
			return errOrType(s)
		}
		r.hasInput = true
	case name == "prompt" && r.ep == Completions:
		return r.prompt(s)
	default:
		s.Skip()
	}
	return s.Err()
}

func errOrType(s *providers.Scanner) error {
	if err := s.Err(); err != nil {
		return err
	}
	return providers.ErrType
}

// streamOptions records where include_usage goes; plan decides once it
// knows whether the request streams.
func (r *rewriter) streamOptions(s *providers.Scanner) error {
	r.hasStreamOptions = true
	switch s.Peek() {
	case providers.KindNull:
		r.soNull = s.Value()
		return s.Err()
	case providers.KindObject:
	default:
		s.Skip()
		return errOrType(s)
	}
	r.soOpen = s.Pos()
	found := false
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		r.soNonEmpty = true
		if string(s.Key(k)) == "include_usage" {
			v := s.Value()
			found = true
			if v.Kind != providers.KindTrue {
				r.soValue = v
			}
		}
	}
	if found {
		r.soOpen = -1
	}
	return s.Err()
}

func (r *rewriter) prompt(s *providers.Scanner) error {
	switch s.Peek() {
	case providers.KindString:
		v := s.Value()
		if r.promptPrefix {
			r.add(op{start: v.Start + 1, end: v.Start + 1, kind: opPrefixLiteral})
		}
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			v := s.Value()
			if !r.promptPrefix {
				continue
			}
			if v.Kind != providers.KindString {
				for arr.Next() {
				}
				if err := s.Err(); err != nil {
					return err
				}
				return ErrUnsupported
			}
			r.add(op{start: v.Start + 1, end: v.Start + 1, kind: opPrefixLiteral})
		}
	default:
		s.Skip()
		return errOrType(s)
	}
	return s.Err()
}

// plan adds the edits that depend on the whole object.
func (r *rewriter) plan() {
	if r.wantUsage() {
		switch {
		case r.soNull.Kind == providers.KindNull:
			r.add(op{start: r.soNull.Start, end: r.soNull.End, kind: opStreamOptions})
		case r.soValue.Kind != providers.KindInvalid:
			r.add(op{start: r.soValue.Start, end: r.soValue.End, kind: opTrue})
		case r.soOpen >= 0:
			r.add(op{start: r.soOpen + 1, end: r.soOpen + 1, kind: opInsertInclude, nonEmpty: r.soNonEmpty})
		}
	}
	if r.capNull.Kind == providers.KindNull && !r.hasCap && r.opt.DefaultMaxTokens > 0 {
		r.add(op{start: r.capNull.Start, end: r.capNull.End, kind: opMaxValue})
	}
	if r.needMembers() {
		r.add(op{start: r.closing, end: r.closing, kind: opAddMembers, nonEmpty: r.members})
	}
}

func (r *rewriter) addCap() bool {
	return !r.hasCap && r.capNull.Kind != providers.KindNull && r.opt.DefaultMaxTokens > 0 && r.opt.MaxTokensField != ""
}

// wantUsage reports whether include_usage must be set: only streamed chat
// and completions requests accept stream_options.
func (r *rewriter) wantUsage() bool {
	return r.opt.IncludeUsage && r.stream && (r.ep == Chat || r.ep == Completions)
}

func (r *rewriter) addStreamOptions() bool { return r.wantUsage() && !r.hasStreamOptions }

func (r *rewriter) addModel() bool { return r.opt.Model != "" && !r.hasModel }

func (r *rewriter) needMembers() bool {
	return r.addCap() || r.addStreamOptions() || r.addModel() ||
		(r.ep == Chat && r.otherItems && !r.hasMessages) ||
		(r.ep == Responses && r.systemText && !r.hasInstr) ||
		(r.ep == Responses && r.otherItems && !r.hasInput)
}

// emit writes the bytes of one edit.
func (r *rewriter) emit(dst []byte, o op) []byte {
	switch o.kind {
	case opModel:
		return providers.AppendStringText(dst, r.opt.Model)
	case opPrependMessages, opPrependItems:
		dst = r.appendItems(dst, o.kind == opPrependMessages)
		if o.nonEmpty {
			dst = append(dst, ',')
		}
		return dst
	case opWrapInput:
		dst = append(dst, '[')
		dst = r.appendItems(dst, false)
		dst = append(dst, `,{"role":"user","content":`...)
		dst = append(dst, r.body[o.start:o.end]...)
		return append(dst, "}]"...)
	case opPrefixLiteral:
		if r.ep == Responses {
			dst = r.appendJoined(dst, true)
			if o.nonEmpty {
				dst = append(dst, `\n\n`...)
			}
			return dst
		}
		dst = r.appendJoined(dst, false)
		return append(dst, `\n\n`...)
	case opReplaceSystem:
		dst = append(dst, '"')
		dst = r.appendJoined(dst, true)
		return append(dst, '"')
	case opTrue:
		return append(dst, "true"...)
	case opInsertInclude:
		dst = append(dst, `"include_usage":true`...)
		if o.nonEmpty {
			dst = append(dst, ',')
		}
		return dst
	case opStreamOptions:
		return append(dst, `{"include_usage":true}`...)
	case opMaxValue:
		return strconv.AppendInt(dst, r.opt.DefaultMaxTokens, 10)
	case opLowerCap:
		return strconv.AppendInt(dst, r.opt.MaxTokensLimit, 10)
	case opAddMembers:
		return r.appendMembers(dst, o.nonEmpty)
	}
	return dst
}

// appendItems writes the prepended messages as JSON objects separated by
// commas: all of them for chat, the non-system ones for responses.
func (r *rewriter) appendItems(dst []byte, chat bool) []byte {
	first := true
	for _, m := range r.opt.Prepend {
		if !chat && m.IsSystem() {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `{"role":`...)
		dst = providers.AppendStringText(dst, m.Role)
		dst = append(dst, `,"content":`...)
		dst = providers.AppendStringText(dst, m.Content)
		dst = append(dst, '}')
	}
	return dst
}

// appendJoined writes the escaped contents of the prepended messages
// (system ones only, or all) separated by blank lines, without quotes.
func (r *rewriter) appendJoined(dst []byte, systemOnly bool) []byte {
	first := true
	for _, m := range r.opt.Prepend {
		if systemOnly && !m.IsSystem() {
			continue
		}
		if !first {
			dst = append(dst, `\n\n`...)
		}
		first = false
		dst = providers.AppendEscapedString(dst, m.Content)
	}
	return dst
}

// appendMembers writes the members the request lacks, before the closing
// brace.
func (r *rewriter) appendMembers(dst []byte, nonEmpty bool) []byte {
	sep := func(dst []byte) []byte {
		if nonEmpty {
			dst = append(dst, ',')
		}
		nonEmpty = true
		return dst
	}
	if r.addModel() {
		dst = sep(dst)
		dst = append(dst, `"model":`...)
		dst = providers.AppendStringText(dst, r.opt.Model)
	}
	if r.ep == Chat && r.otherItems && !r.hasMessages {
		dst = sep(dst)
		dst = append(dst, `"messages":[`...)
		dst = r.appendItems(dst, true)
		dst = append(dst, ']')
	}
	if r.ep == Responses && r.systemText && !r.hasInstr {
		dst = sep(dst)
		dst = append(dst, `"instructions":"`...)
		dst = r.appendJoined(dst, true)
		dst = append(dst, '"')
	}
	if r.ep == Responses && r.otherItems && !r.hasInput {
		dst = sep(dst)
		dst = append(dst, `"input":[`...)
		dst = r.appendItems(dst, false)
		dst = append(dst, ']')
	}
	if r.addStreamOptions() {
		dst = sep(dst)
		dst = append(dst, `"stream_options":{"include_usage":true}`...)
	}
	if r.addCap() {
		dst = sep(dst)
		dst = providers.AppendStringText(dst, r.opt.MaxTokensField)
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, r.opt.DefaultMaxTokens, 10)
	}
	return dst
}
