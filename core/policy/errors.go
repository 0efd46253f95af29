package policy

import "errors"

// MaxSize is the largest policy document Parse and MergePatch accept.
const MaxSize = 1 << 20

var (
	ErrEmpty           = errors.New("policy: empty document")
	ErrTooLarge        = errors.New("policy: document larger than 1 MiB")
	ErrSyntax          = errors.New("policy: invalid JSON")
	ErrInvalidWindow   = errors.New("policy: invalid window")
	ErrNoModel         = errors.New("policy: no model requested")
	ErrModelNotAllowed = errors.New("policy: model not allowed")
)

// FieldError is one problem with one field of a policy. Path is the JSON path
// ("rules[1].action", "providers.openai[0].max_tokens"); it is empty for the
// document as a whole.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return "policy: " + e.Msg
	}
	return "policy: " + e.Path + ": " + e.Msg
}

// FieldErrors returns every *FieldError inside err, including those joined
// by errors.Join, in order. It returns nil when there is none.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *FieldError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}
