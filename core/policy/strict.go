package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

var (
	typeProviders    = reflect.TypeFor[Providers]()
	typeEntries      = reflect.TypeFor[[]ProviderEntry]()
	typeRawMessage   = reflect.TypeFor[json.RawMessage]()
	typePolicyStruct = reflect.TypeFor[Policy]()
	typeRule         = reflect.TypeFor[Rule]()
)

// checkShape walks a decoded document against the Go type it will be
// decoded into, reporting unknown keys and wrong JSON types with their
// paths. It exists because encoding/json stops at the first problem, does
// not say where it was, and matches field names case-insensitively.
func checkShape(v *value, t reflect.Type, p *path, errs *[]error) {
	bad := func(format string, args ...any) {
		*errs = append(*errs, &FieldError{Path: p.String(), Msg: fmt.Sprintf(format, args...)})
	}
	switch t {
	case typeRawMessage:
		return // any JSON; validation decides what it must be
	case typeRule:
		if v.kind == kindString {
			return // the legacy form, a bare regex pattern (see Rule.UnmarshalJSON)
		}
	case typeProviders:
		if v.kind == kindNull {
			return
		}
		if v.kind != kindObject {
			bad("must be an object, got %s", v.kind)
			return
		}
		for i := range v.obj {
			n := p.key(v.obj[i].key)
			checkShape(&v.obj[i].val, typeEntries, p, errs)
			p.pop(n)
		}
		return
	}

	switch t.Kind() {
	case reflect.Pointer:
		if v.kind != kindNull {
			checkShape(v, t.Elem(), p, errs)
		}
	case reflect.Struct:
		if v.kind != kindObject {
			bad("must be an object, got %s", v.kind)
			return
		}
		for i := range v.obj {
			m := &v.obj[i]
			n := p.key(m.key)
			if f, ok := fieldByTag(t, m.key); ok {
				checkShape(&m.val, f.Type, p, errs)
			} else if hint := closestField(t, m.key); hint != "" {
				bad("unknown field; did you mean %q?", hint)
			} else {
				bad("unknown field")
			}
			p.pop(n)
		}
	case reflect.Slice:
		if v.kind == kindNull {
			return
		}
		if v.kind != kindArray {
			bad("must be an array, got %s", v.kind)
			return
		}
		for i := range v.arr {
			n := p.index(i)
			checkShape(&v.arr[i], t.Elem(), p, errs)
			p.pop(n)
		}
	case reflect.Map:
		if v.kind == kindNull {
			return
		}
		if v.kind != kindObject {
			bad("must be an object, got %s", v.kind)
			return
		}
		for i := range v.obj {
			n := p.key(v.obj[i].key)
			checkShape(&v.obj[i].val, t.Elem(), p, errs)
			p.pop(n)
		}
	case reflect.String:
		if v.kind != kindString {
			bad("must be a string, got %s", v.kind)
		}
	case reflect.Bool:
		if v.kind != kindBool {
			bad("must be a boolean, got %s", v.kind)
		}
	case reflect.Int, reflect.Int64:
		if v.kind != kindNumber {
			bad("must be an integer, got %s", v.kind)
			return
		}
		if _, err := strconv.ParseInt(v.s, 10, t.Bits()); err != nil {
			if errors.Is(err, strconv.ErrRange) {
				bad("integer %s is out of range", v.s)
			} else {
				bad("must be an integer, got %s", v.s)
			}
		}
	case reflect.Float64:
		if v.kind != kindNumber {
			bad("must be a number, got %s", v.kind)
			return
		}
		if _, err := strconv.ParseFloat(v.s, 64); err != nil {
			bad("number %s is out of range", v.s)
		}
	default:
		// A field type added to types.go without support here.
		bad("internal error: unsupported Go type %s", t)
	}
}

// fieldByTag finds the exported field whose JSON name is exactly name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if n := jsonName(f); n != "" && n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// closestField suggests the field a misspelled key probably meant.
func closestField(t reflect.Type, key string) string {
	if len(key) > 64 {
		return ""
	}
	lower := strings.ToLower(key)
	best, bestDist := "", 3 // suggest only within two edits
	for i := range t.NumField() {
		n := jsonName(t.Field(i))
		if n == "" {
			continue
		}
		if d := editDistance(lower, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
