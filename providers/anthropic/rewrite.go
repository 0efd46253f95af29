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
}

type rewriter struct {
	body    []byte
	opt     *Rewrite
	sys     bool // some prepends are system
	msgs    bool // some prepends are messages
	members bool
	closing int

	model, system, messages, maxNull providers.Value
	hasModel, hasMax, hasSystem      bool
	hasMessages                      bool
}

// RewriteRequest appends to dst the request with the changes opt asks
// for, editing bytes in place and validating the body.
func RewriteRequest(dst, body []byte, opt Rewrite) ([]byte, error) {
	r := rewriter{body: body, opt: &opt}
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
	// Edits in body order: model, system, messages, max_tokens appear at
	// their own positions; missing members go before the closing brace.
	type edit struct {
		at   int
		emit func([]byte) []byte
		end  int
	}
	var edits [5]edit
	n := 0
	add := func(at, end int, f func([]byte) []byte) {
		edits[n] = edit{at: at, end: end, emit: f}
		n++
	}
	if r.hasModel && opt.Model != "" {
		add(r.model.Start, r.model.End, func(d []byte) []byte { return providers.AppendStringText(d, opt.Model) })
	}
	if r.sys && r.hasSystem {
		v := r.system
		switch v.Kind {
		case providers.KindString:
			add(v.Start+1, v.Start+1, func(d []byte) []byte {
				d = r.appendSystemJoined(d)
				if v.End-v.Start > 2 {
					d = append(d, `\n\n`...)
				}
				return d
			})
		case providers.KindArray:
			nonEmpty := !emptyContainer(body, v)
			add(v.Start+1, v.Start+1, func(d []byte) []byte {
				d = r.appendSystemBlocks(d)
				if nonEmpty {
					d = append(d, ',')
				}
				return d
			})
		default: // null
			add(v.Start, v.End, func(d []byte) []byte {
				d = append(d, '"')
				d = r.appendSystemJoined(d)
				return append(d, '"')
			})
		}
	}
	if r.msgs && r.hasMessages {
		v := r.messages
		nonEmpty := !emptyContainer(body, v)
		add(v.Start+1, v.Start+1, func(d []byte) []byte {
			d = r.appendMessages(d)
			if nonEmpty {
				d = append(d, ',')
			}
			return d
		})
	}
	if !r.hasMax && r.maxNull.Kind == providers.KindNull && opt.DefaultMaxTokens > 0 {
		add(r.maxNull.Start, r.maxNull.End, func(d []byte) []byte { return strconv.AppendInt(d, opt.DefaultMaxTokens, 10) })
	}
	if r.needMembers() {
		add(r.closing, r.closing, r.appendMembers)
	}
	// Insertion sort by position: at most five edits.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && edits[j].at < edits[j-1].at; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	last := 0
	for _, e := range edits[:n] {
		dst = append(dst, body[last:e.at]...)
		dst = e.emit(dst)
		last = e.end
	}
	return append(dst, body[last:]...), nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func emptyContainer(body []byte, v providers.Value) bool {
	for i := v.Start + 1; i < v.End-1; i++ {
		if !isSpace(body[i]) {
			return false
		}
	}
	return true
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
			} else if _, ierr := v.Int(r.body); ierr != nil {
				err = errOrType(&s)
			} else {
				r.hasMax = true
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
	// Insert new members right after the last value, before any
	// whitespace that precedes the closing brace.
	r.closing = end - 1
	for r.closing > 0 && isSpace(r.body[r.closing-1]) {
		r.closing--
	}
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
