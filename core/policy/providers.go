package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// UnmarshalJSON decodes the "providers" object keeping its key order.
// Unknown entry fields and duplicate group names are errors.
func (ps *Providers) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decoding providers: %w", err)
	}
	if tok == nil {
		*ps = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &FieldError{Path: "providers", Msg: "must be an object"}
	}
	var out Providers
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decoding providers: %w", err)
		}
		name, _ := tok.(string)
		for _, g := range out {
			if g.Name == name {
				return &FieldError{Path: joinKey("providers", name), Msg: "duplicate key"}
			}
		}
		var entries []ProviderEntry
		if err := dec.Decode(&entries); err != nil {
			return fmt.Errorf("decoding provider group %q: %w", name, err)
		}
		out = append(out, ProviderGroup{Name: name, Entries: entries})
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("decoding providers: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("decoding providers: trailing data")
	}
	*ps = out
	return nil
}

// MarshalJSON encodes the groups as one JSON object in their order.
func (ps Providers) MarshalJSON() ([]byte, error) {
	if ps == nil {
		return []byte("null"), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, g := range ps {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(appendString(nil, g.Name))
		buf.WriteByte(':')
		entries := g.Entries
		if entries == nil {
			entries = []ProviderEntry{} // an array, never null
		}
		if err := enc.Encode(entries); err != nil {
			return nil, fmt.Errorf("encoding provider group %q: %w", g.Name, err)
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
