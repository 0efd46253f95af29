package anthropic

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Rewrite says how RewriteRequest changes a Messages request. The zero
// value changes nothing.
type Rewrite struct {
	// Model replaces the model; "" keeps it.
	Model string
	// Prepend adds policy messages. System and developer messages go
	// before the existing system prompt: joined to a string system with a
	// blank line, or as leading text blocks of a block system. Other roles
	// become leading messages.
	Prepend []providers.Message
	// DefaultMaxTokens sets max_tokens when the request lacks it (the API
	// requires it); 0 leaves the request alone.
	DefaultMaxTokens int64
	// MaxTokensLimit, when positive, lowers a max_tokens above it to it (the
	// budget clamp); on translation from OpenAI chat it bounds the cap too.
	MaxTokensLimit int64
}

type rewriter struct {
	body    []byte
	opt     Rewrite
	sys     bool // some prepends are system
	msgs    bool // some prepends are messages
	members bool
	closing int

	model, system, messages, maxNull providers.Value
	maxValue                         providers.Value // a numeric max_tokens above MaxTokensLimit
	hasModel, hasMax, hasSystem      bool
	hasMessages                      bool
}

type opKind uint8

const (
	opModel        opKind = iota + 1 // replace the model literal
	opSystemPrefix                   // after the opening quote of a string system
	opSystemBlocks                   // after '[' of a block system
	opSystemNull                     // replace a null system
	opMessages                       // after '[' of messages
	opMaxTokens                      // replace a null max_tokens
	opLowerMax                       // replace a max_tokens above MaxTokensLimit
	opMembers                        // before the closing brace
)

type op struct {
	start, end int
	kind       opKind
	nonEmpty   bool // the literal or container already has content
}

// RewriteRequest appends to dst the request with the changes opt asks
// for, editing bytes in place and validating the body.
func RewriteRequest(dst, body []byte, opt Rewrite) ([]byte, error) {
	r := rewriter{body: body, opt: opt}
	for _, m := range opt.Prepend {
		if m.IsSystem() {
			r.sys = true
		} else {
			r.msgs = true
		}
	}
	if err := r.scan(); err != nil {
		return dst, err
	}
	// Edits sit at distinct positions; order them by position.
	var ops [6]op
	n := 0
	add := func(o op) { ops[n] = o; n++ }
	if r.hasModel && opt.Model != "" {
		add(op{start: r.model.Start, end: r.model.End, kind: opModel})
	}
	if r.sys && r.hasSystem {
		switch v := r.system; v.Kind {
		case providers.KindString:
			add(op{start: v.Start + 1, end: v.Start + 1, kind: opSystemPrefix, nonEmpty: v.End-v.Start > 2})
		case providers.KindArray:
			add(op{start: v.Start + 1, end: v.Start + 1, kind: opSystemBlocks, nonEmpty: !providers.EmptyContainer(body, v)})
		default:
			add(op{start: v.Start, end: v.End, kind: opSystemNull})
		}
	}
	if r.msgs && r.hasMessages {
		v := r.messages
		add(op{start: v.Start + 1, end: v.Start + 1, kind: opMessages, nonEmpty: !providers.EmptyContainer(body, v)})
	}
	if !r.hasMax && r.maxNull.Kind == providers.KindNull && opt.DefaultMaxTokens > 0 {
		add(op{start: r.maxNull.Start, end: r.maxNull.End, kind: opMaxTokens})
	}
	if r.maxValue.Kind == providers.KindNumber {
		add(op{start: r.maxValue.Start, end: r.maxValue.End, kind: opLowerMax})
	}
	if r.needMembers() {
		add(op{start: r.closing, end: r.closing, kind: opMembers})
	}
	for i := 1; i < n; i++ {
		for j := i; j > 0 && ops[j].start < ops[j-1].start; j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
	last := 0
	for _, o := range ops[:n] {
		dst = append(dst, body[last:o.start]...)
		dst = r.emit(dst, o)
		last = o.end
	}
	return append(dst, body[last:]...), nil
}

func (r *rewriter) emit(dst []byte, o op) []byte {
	switch o.kind {
	case opModel:
		return providers.AppendStringText(dst, r.opt.Model)
	case opSystemPrefix:
		dst = r.appendSystemJoined(dst)
		if o.nonEmpty {
			dst = append(dst, `\n\n`...)
		}
		return dst
	case opSystemBlocks:
		dst = r.appendSystemBlocks(dst)
		if o.nonEmpty {
			dst = append(dst, ',')
		}
		return dst
	case opSystemNull:
		dst = append(dst, '"')
		dst = r.appendSystemJoined(dst)
		return append(dst, '"')
	case opMessages:
		dst = r.appendMessages(dst)
		if o.nonEmpty {
			dst = append(dst, ',')
		}
		return dst
	case opMaxTokens:
		return strconv.AppendInt(dst, r.opt.DefaultMaxTokens, 10)
	case opLowerMax:
		return strconv.AppendInt(dst, r.opt.MaxTokensLimit, 10)
	case opMembers:
		return r.appendMembers(dst)
	}
	return dst
}

func (r *rewriter) scan() error {
	s := providers.NewScanner(r.body)
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
		r.members = true
		name := s.Key(k)
		var bit uint32
		var err error
		switch string(name) {
		case "model":
			bit = fModel
			r.model = s.Value()
			r.hasModel = true
			if r.model.Kind != providers.KindString {
				err = errOrType(&s)
			}
		case "system":
			bit = fSystem
			r.system = s.Value()
			r.hasSystem = true
			switch r.system.Kind {
			case providers.KindString, providers.KindArray, providers.KindNull:
			default:
				err = errOrType(&s)
			}
		case "messages":
			bit = fMessages
			r.messages = s.Value()
			r.hasMessages = true
			if r.messages.Kind != providers.KindArray {
				err = errOrType(&s)
			}
		case "max_tokens":
			bit = fMaxTokens
			v := s.Value()
			if v.IsNull() {
				r.maxNull = v
			} else if n, ierr := v.Int(r.body); ierr != nil {
				err = errOrType(&s)
			} else {
				r.hasMax = true
				if r.opt.MaxTokensLimit > 0 && n > r.opt.MaxTokensLimit {
					r.maxValue = v
				}
			}
		case "stream":
			bit = fStream
		case "tools":
			bit = fTools
		}
		if bit != 0 {
			if seen&bit != 0 {
				return fieldErr(string(name), providers.ErrDupField)
			}
			seen |= bit
		}
		if err == nil {
			err = s.Err()
		}
		if err != nil {
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

func (r *rewriter) addMax() bool {
	return !r.hasMax && r.maxNull.Kind != providers.KindNull && r.opt.DefaultMaxTokens > 0
}

func (r *rewriter) needMembers() bool {
	return r.addMax() || (r.opt.Model != "" && !r.hasModel) ||
		(r.sys && !r.hasSystem) || (r.msgs && !r.hasMessages)
}

func (r *rewriter) appendMembers(dst []byte) []byte {
	nonEmpty := r.members
	sep := func(d []byte) []byte {
		if nonEmpty {
			d = append(d, ',')
		}
		nonEmpty = true
		return d
	}
	if r.opt.Model != "" && !r.hasModel {
		dst = sep(dst)
		dst = append(dst, `"model":`...)
		dst = providers.AppendStringText(dst, r.opt.Model)
	}
	if r.sys && !r.hasSystem {
		dst = sep(dst)
		dst = append(dst, `"system":"`...)
		dst = r.appendSystemJoined(dst)
		dst = append(dst, '"')
	}
	if r.msgs && !r.hasMessages {
		dst = sep(dst)
		dst = append(dst, `"messages":[`...)
		dst = r.appendMessages(dst)
		dst = append(dst, ']')
	}
	if r.addMax() {
		dst = sep(dst)
		dst = append(dst, `"max_tokens":`...)
		dst = strconv.AppendInt(dst, r.opt.DefaultMaxTokens, 10)
	}
	return dst
}

// appendSystemJoined writes the escaped system prepends separated by blank
// lines, without quotes.
func (r *rewriter) appendSystemJoined(dst []byte) []byte {
	first := true
	for _, m := range r.opt.Prepend {
		if !m.IsSystem() {
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

func (r *rewriter) appendSystemBlocks(dst []byte) []byte {
	first := true
	for _, m := range r.opt.Prepend {
		if !m.IsSystem() {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `{"type":"text","text":`...)
		dst = providers.AppendStringText(dst, m.Content)
		dst = append(dst, '}')
	}
	return dst
}

func (r *rewriter) appendMessages(dst []byte) []byte {
	first := true
	for _, m := range r.opt.Prepend {
		if m.IsSystem() {
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
