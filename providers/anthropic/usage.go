package anthropic

import (
	"github.com/tokenomics-dev/tokenomics/providers"
)

// rawUsage is an Anthropic usage object as sent.
type rawUsage struct {
	input, output, cacheRead, cacheCreate int64
	hasInput, hasOutput                   bool
	present                               bool
}

// usage converts to the gateway's accounting: cache reads and writes are
// prompt tokens; reads are also reported as cached.
func (r rawUsage) usage() providers.Usage {
	return providers.Usage{
		PromptTokens:     r.input + r.cacheRead + r.cacheCreate,
		CompletionTokens: r.output,
		CachedTokens:     r.cacheRead,
		CacheWriteTokens: r.cacheCreate,
		Reported:         r.present,
	}
}

// readUsage reads a usage object (or null) at the scanner.
func readUsage(s *providers.Scanner, u *rawUsage) error {
	switch s.Peek() {
	case providers.KindNull:
		s.Skip()
		return s.Err()
	case providers.KindObject:
	default:
		s.Skip()
		return errOrType(s)
	}
	u.present = true
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		var dst *int64
		switch string(s.Key(k)) {
		case "input_tokens":
			dst = &u.input
			u.hasInput = true
		case "output_tokens":
			dst = &u.output
			u.hasOutput = true
		case "cache_read_input_tokens":
			dst = &u.cacheRead
		case "cache_creation_input_tokens":
			dst = &u.cacheCreate
		default:
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

// ParseResponseUsage reads the usage of a non-streamed Messages response:
// input_tokens + cache_read_input_tokens + cache_creation_input_tokens as
// prompt, cache reads as cached, output_tokens as completion. A body
// without usage returns a zero Usage with Reported false.
func ParseResponseUsage(body []byte) (providers.Usage, error) {
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return providers.Usage{}, errOrType(&s)
	}
	var u rawUsage
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
	if err := s.Finish(); err != nil {
		return providers.Usage{}, err
	}
	return u.usage(), nil
}
