package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxDepth bounds nesting so a hostile document cannot drive deep recursion;
// policies nest five levels at most, plugin configs a little more.
const maxDepth = 64

// indexAbove is the object size from which key lookups go through a map.
const indexAbove = 16

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindArray:
		return "array"
	default:
		return "object"
	}
}

// value is a decoded JSON value that keeps object keys in written order,
// which map[string]any cannot, and number literals as written.
type value struct {
	kind kind
	b    bool
	s    string // string contents, or the number's literal
	arr  []value
	obj  []member
}

type member struct {
	key string
	val value
}

// decodeDocument decodes exactly one JSON value from data, refusing empty or
// oversized input, trailing data, excessive nesting and duplicate keys.
func decodeDocument(data []byte) (value, error) {
	if len(data) > MaxSize {
		return value{}, ErrTooLarge
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return value{}, ErrEmpty
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var p path
	v, err := decodeValue(dec, &p, 0)
	if err != nil {
		return value{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return value{}, fmt.Errorf("%w: trailing data after the top-level value", ErrSyntax)
	}
	return v, nil
}

func syntaxError(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w at byte %d: %w", ErrSyntax, se.Offset, err)
	}
	return fmt.Errorf("%w: %w", ErrSyntax, err)
}

func decodeValue(dec *json.Decoder, p *path, depth int) (value, error) {
	tok, err := dec.Token()
	if err != nil {
		return value{}, syntaxError(err)
	}
	switch t := tok.(type) {
	case nil:
		return value{kind: kindNull}, nil
	case bool:
		return value{kind: kindBool, b: t}, nil
	case json.Number:
		return value{kind: kindNumber, s: string(t)}, nil
	case string:
		return value{kind: kindString, s: t}, nil
	case json.Delim:
		if depth >= maxDepth {
			return value{}, fmt.Errorf("%w: nested deeper than %d levels", ErrSyntax, maxDepth)
		}
		if t == '[' {
			return decodeArray(dec, p, depth)
		}
		return decodeObject(dec, p, depth)
	}
	return value{}, fmt.Errorf("%w: unexpected token %v", ErrSyntax, tok)
}

func decodeArray(dec *json.Decoder, p *path, depth int) (value, error) {
	v := value{kind: kindArray}
	for dec.More() {
		n := p.index(len(v.arr))
		elem, err := decodeValue(dec, p, depth+1)
		if err != nil {
			return value{}, err
		}
		p.pop(n)
		v.arr = append(v.arr, elem)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return value{}, syntaxError(err)
	}
	return v, nil
}

func decodeObject(dec *json.Decoder, p *path, depth int) (value, error) {
	v := value{kind: kindObject}
	var seen map[string]struct{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return value{}, syntaxError(err)
		}
		k, ok := tok.(string)
		if !ok { // the decoder's grammar makes this unreachable
			return value{}, fmt.Errorf("%w: object key is not a string", ErrSyntax)
		}
		if len(v.obj) == indexAbove {
			seen = make(map[string]struct{}, 2*indexAbove)
			for _, m := range v.obj {
				seen[m.key] = struct{}{}
			}
		}
		dup := false
		if seen != nil {
			_, dup = seen[k]
			seen[k] = struct{}{}
		} else {
			dup = v.find(k) >= 0
		}
		n := p.key(k)
		if dup {
			return value{}, &FieldError{Path: p.String(), Msg: "duplicate key"}
		}
		val, err := decodeValue(dec, p, depth+1)
		if err != nil {
			return value{}, err
		}
		p.pop(n)
		v.obj = append(v.obj, member{key: k, val: val})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return value{}, syntaxError(err)
	}
	return v, nil
}

// find returns the index of key k in an object, or -1.
func (v *value) find(k string) int {
	for i := range v.obj {
		if v.obj[i].key == k {
			return i
		}
	}
	return -1
}

// appendJSON appends v as compact JSON.
func (v *value) appendJSON(dst []byte) []byte {
	switch v.kind {
	case kindNull:
		return append(dst, "null"...)
	case kindBool:
		if v.b {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kindNumber:
		return append(dst, v.s...)
	case kindString:
		return appendString(dst, v.s)
	case kindArray:
		dst = append(dst, '[')
		for i := range v.arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = v.arr[i].appendJSON(dst)
		}
		return append(dst, ']')
	default:
		dst = append(dst, '{')
		for i := range v.obj {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, v.obj[i].key)
			dst = append(dst, ':')
			dst = v.obj[i].val.appendJSON(dst)
		}
		return append(dst, '}')
	}
}

// appendString appends s as a JSON string. It escapes only what JSON
// requires; s is valid UTF-8 because the decoder replaced bad bytes.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
