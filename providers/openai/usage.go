package openai

import (
	"github.com/tokenomics-dev/tokenomics/providers"
)

// ParseResponseUsage reads the usage object of a non-streamed response of
// any endpoint: prompt_tokens, completion_tokens and their *_details
// (chat, completions, embeddings) or input_tokens, output_tokens and their
// *_details (responses). A body without a usage object returns a zero Usage
// with Reported false and no error.
func ParseResponseUsage(body []byte) (providers.Usage, error) {
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		if err := s.Err(); err != nil {
			return providers.Usage{}, err
		}
		return providers.Usage{}, providers.ErrType
	}
	var u providers.Usage
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) == "usage" {
			if err := readUsage(&s, &u); err != nil {
				return providers.Usage{}, err
			}
		}
	}
	return u, s.Finish()
}

// readUsage reads a usage object (or null) at the scanner. Reported is set
// when it is an object.
func readUsage(s *providers.Scanner, u *providers.Usage) error {
	switch s.Peek() {
	case providers.KindNull:
		s.Skip()
		return s.Err()
	case providers.KindObject:
	default:
		s.Skip()
		return errOrType(s)
	}
	body := s.Body()
	*u = providers.Usage{Reported: true}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		var dst *int64
		switch string(s.Key(k)) {
		case "prompt_tokens", "input_tokens":
			dst = &u.PromptTokens
		case "completion_tokens", "output_tokens":
			dst = &u.CompletionTokens
		case "prompt_tokens_details", "input_tokens_details":
			if err := readDetail(s, "cached_tokens", &u.CachedTokens); err != nil {
				return err
			}
			continue
		case "completion_tokens_details", "output_tokens_details":
			if err := readDetail(s, "reasoning_tokens", &u.ReasoningTokens); err != nil {
				return err
			}
			continue
		default:
			continue
		}
		v := s.Value()
		if v.IsNull() {
			continue
		}
		n, err := v.Int(body)
		if err != nil {
			return errOrType(s)
		}
		*dst = n
	}
	return s.Err()
}

// readDetail reads one integer member of a *_details object (or null).
func readDetail(s *providers.Scanner, name string, dst *int64) error {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return s.Err()
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) != name {
			continue
		}
		v := s.Value()
		if v.IsNull() {
			continue
		}
		n, err := v.Int(s.Body())
		if err != nil {
			return errOrType(s)
		}
		*dst = n
	}
	return s.Err()
}
