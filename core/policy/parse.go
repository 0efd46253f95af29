package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Parse decodes, validates and normalizes a policy document.
//
// Decoding is strict: unknown fields, wrong JSON types, duplicate keys,
// trailing data, a top level that is not an object, empty input and input
// over MaxSize are errors. Shape and validation problems come back together
// as joined *FieldError values (see FieldErrors); syntax errors wrap
// ErrSyntax.
func Parse(data []byte) (*Policy, error) {
	doc, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	if doc.kind != kindObject {
		return nil, &FieldError{Msg: fmt.Sprintf("top level must be a JSON object, got %s", doc.kind)}
	}
	var errs []error
	var p path
	checkShape(&doc, typePolicyStruct, &p, &errs)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	pol := new(Policy)
	if err := json.Unmarshal(data, pol); err != nil {
		// checkShape admits only what decodes, so this is a bug if reached.
		return nil, fmt.Errorf("decoding policy: %w", err)
	}
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	return pol, nil
}

// Marshal encodes the policy as compact JSON: fields in declaration order,
// providers in their order, metadata keys sorted, no HTML escaping. For a
// parsed policy, Parse(Marshal(p)) yields an equal policy.
func (p *Policy) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encoding policy: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
