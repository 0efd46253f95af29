package hub

import (
	"errors"
	"fmt"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Wire is a client-facing wire format.
type Wire uint8

// The formats the hub decodes and encodes.
const (
	Chat      Wire = iota + 1 // OpenAI Chat Completions
	Responses                 // OpenAI Responses
	Messages                  // Anthropic Messages
)

func (w Wire) String() string {
	switch w {
	case Chat:
		return "chat"
	case Responses:
		return "responses"
	case Messages:
		return "messages"
	}
	return "unknown"
}

// ProviderWire is the format a provider of format f is sent: OpenAI
// providers get Chat Completions, Anthropic providers Messages.
func ProviderWire(f providers.Format) Wire {
	if f == providers.Anthropic {
		return Messages
	}
	return Chat
}

// Errors of the hub. A request that cannot be expressed in the target
// format is a *FieldError wrapping ErrUnsupported.
var (
	ErrUnsupported = errors.New("hub: cannot be expressed in the provider's format")
	// ErrServerState is a Responses request that refers to what OpenAI
	// stored (previous_response_id, conversation, item_reference): another
	// provider cannot read it. It wraps ErrUnsupported.
	ErrServerState   = fmt.Errorf("%w: refers to state stored by OpenAI", ErrUnsupported)
	ErrToolArguments = errors.New("hub: tool call arguments are not a JSON object")
	ErrNoMaxTokens   = errors.New("hub: no max_tokens and no default")
	ErrNotResponse   = errors.New("hub: body is not a successful response")
)

// FieldError names the client field a translation refused or could not
// read.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %v", e.Field, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return err
	}
	return &FieldError{Field: field, Err: err}
}

func unsupported(field string) error { return &FieldError{Field: field, Err: ErrUnsupported} }

// Str is a text: a string literal of the body (V) or, when V is not a
// string, a text the gateway owns (S).
type Str struct {
	V providers.Value
	S string
}

func lit(v providers.Value) Str { return Str{V: v} }

func (s Str) valid() bool { return s.V.Kind == providers.KindString || s.S != "" }

// appendJSON writes s as a JSON string literal.
func (s Str) appendJSON(dst, body []byte) []byte {
	if s.V.Kind == providers.KindString {
		return append(dst, s.V.Raw(body)...)
	}
	return providers.AppendStringText(dst, s.S)
}

// appendInner writes s escaped for the inside of a JSON string literal.
func (s Str) appendInner(dst, body []byte) []byte {
	if s.V.Kind == providers.KindString {
		return append(dst, body[s.V.Start+1:s.V.End-1]...)
	}
	return providers.AppendEscapedString(dst, s.S)
}

func (s Str) blank(body []byte) bool {
	if s.V.Kind == providers.KindString {
		return blankLiteral(s.V.Raw(body))
	}
	for i := 0; i < len(s.S); i++ {
		switch s.S[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

// Role is a conversation role.
type Role uint8

// The roles of hub messages: system text is kept apart (Request.System).
const (
	User Role = iota + 1
	Assistant
)

func (r Role) String() string {
	if r == Assistant {
		return "assistant"
	}
	return "user"
}

// PartKind is what a content part holds.
type PartKind uint8

// The content a part may hold.
const (
	PartText PartKind = iota + 1
	PartImage
	PartToolCall
	PartToolResult
)

// Part is one piece of a message.
type Part struct {
	Kind PartKind
	// Text of a text part; of a tool result given as a string.
	Text Str
	// Image: URL is a string literal (an http(s) or data: URL, OpenAI);
	// MediaType and Data a base64 source (Anthropic).
	URL, MediaType, Data providers.Value
	// Tool call: ID, Name, and Args, a string literal holding JSON (OpenAI)
	// or a JSON object (Anthropic). Tool result: ID is the call's id.
	ID, Name, Args providers.Value
	// Result is a tool result's content when it is an array of text
	// blocks (both families spell them {"type":"text","text":...}).
	Result  providers.Value
	IsError bool
}

// Message is a run of parts of one role: Parts[From:To] of its Request.
type Message struct {
	Role     Role
	From, To int
}

// Tool is a function the model may call.
type Tool struct {
	Name, Description, Schema providers.Value
	Strict                    providers.Value
}

// Choice is the tool choice.
type Choice uint8

// The tool choices all formats share.
const (
	ChoiceUnset Choice = iota
	ChoiceAuto
	ChoiceNone
	ChoiceRequired
	ChoiceNamed
)

// FormatKind is the requested output format.
type FormatKind uint8

// The output formats.
const (
	FormatText FormatKind = iota
	FormatJSONObject
	FormatJSONSchema
)

// Format is structured output: a JSON schema the answer must follow.
type Format struct {
	Kind                      FormatKind
	Name, Description, Schema providers.Value
	Strict                    providers.Value
	// Field is the client's field, for errors.
	Field string
}

// Tri is an optional boolean.
type Tri uint8

// The states of a Tri.
const (
	Unset Tri = iota
	True
	False
)

// Request is the hub form of a generation request. Values are spans of
// Body.
type Request struct {
	Body  []byte
	Model Str
	// System texts, in order (policy prompts first once Prepend ran).
	System   []Str
	Messages []Message
	Parts    []Part
	Tools    []Tool
	Choice   Choice
	// ChoiceName names the tool of ChoiceNamed.
	ChoiceName    providers.Value
	ParallelTools Tri
	// MaxTokens is the output cap, 0 when the client set none.
	MaxTokens    int64
	Stream       bool
	IncludeUsage bool
	Temperature  providers.Value
	TopP         providers.Value
	Stop         []providers.Value // string literals
	User         providers.Value
	Format       Format
}

// Reset empties r for a new body, keeping its slices.
func (r *Request) Reset(body []byte) {
	*r = Request{Body: body, System: r.System[:0], Messages: r.Messages[:0], Parts: r.Parts[:0],
		Tools: r.Tools[:0], Stop: r.Stop[:0]}
}

// addPart appends a part to the message being built (from is its first part).
func (r *Request) addPart(p Part) { r.Parts = append(r.Parts, p) }

// endMessage records the parts added since from as a message of role.
func (r *Request) endMessage(role Role, from int) {
	if from == len(r.Parts) {
		return
	}
	// Consecutive turns of one role are one message (Responses items,
	// chat tool messages): every format then sees one turn per role.
	if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == role && r.Messages[n-1].To == from {
		r.Messages[n-1].To = len(r.Parts)
		return
	}
	r.Messages = append(r.Messages, Message{Role: role, From: from, To: len(r.Parts)})
}

// Prepend adds policy messages: system ones before the request's system
// texts, others before its first message.
func (r *Request) Prepend(msgs []providers.Message) {
	nsys, nmsg := 0, 0
	for _, m := range msgs {
		if m.IsSystem() {
			nsys++
		} else {
			nmsg++
		}
	}
	if nsys > 0 {
		old := len(r.System)
		r.System = append(r.System, make([]Str, nsys)...)
		copy(r.System[nsys:], r.System[:old])
		i := 0
		for _, m := range msgs {
			if m.IsSystem() {
				r.System[i] = Str{S: m.Content}
				i++
			}
		}
	}
	if nmsg == 0 {
		return
	}
	// Policy messages take parts at the end and messages at the front.
	old := len(r.Messages)
	r.Messages = append(r.Messages, make([]Message, nmsg)...)
	copy(r.Messages[nmsg:], r.Messages[:old])
	i := 0
	for _, m := range msgs {
		if m.IsSystem() {
			continue
		}
		role := User
		if m.Role == "assistant" {
			role = Assistant
		}
		r.Parts = append(r.Parts, Part{Kind: PartText, Text: Str{S: m.Content}})
		r.Messages[i] = Message{Role: role, From: len(r.Parts) - 1, To: len(r.Parts)}
		i++
	}
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

func errOrType(s *providers.Scanner) error {
	if err := s.Err(); err != nil {
		return err
	}
	return providers.ErrType
}

// scanAt returns a scanner positioned at v.
func scanAt(body []byte, v providers.Value) providers.Scanner {
	s := providers.NewScanner(body)
	s.Seek(v.Start)
	return s
}

// readCount reads a non-negative integer cap; null or absent is 0.
func readCount(body []byte, v providers.Value, field string) (int64, error) {
	if v.Kind == providers.KindInvalid || v.IsNull() {
		return 0, nil
	}
	n, err := v.Int(body)
	if err != nil || n < 0 {
		return 0, fieldErr(field, providers.ErrType)
	}
	return n, nil
}

func readBool(v providers.Value) bool { return v.Kind == providers.KindTrue }

func readTri(v providers.Value) Tri {
	switch v.Kind {
	case providers.KindTrue:
		return True
	case providers.KindFalse:
		return False
	}
	return Unset
}

// appendArgsString writes tool arguments as a JSON string holding JSON
// (OpenAI's spelling): a literal is copied, an object quoted.
func appendArgsString(dst, body []byte, args providers.Value) []byte {
	switch args.Kind {
	case providers.KindString:
		return append(dst, args.Raw(body)...)
	case providers.KindObject:
		return providers.AppendString(dst, args.Raw(body))
	}
	return append(dst, `"{}"`...)
}
