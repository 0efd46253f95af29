package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// The decoder walks a parsed YAML tree into Go values itself rather than
// calling yaml.Node.Decode on the root: Node.Decode cannot reject unknown
// keys (only a yaml.Decoder over raw bytes can, and ${} expansion must run
// after parsing), and walking lets every error carry its YAML path. Scalars
// still go through yaml.v3 so typing follows YAML rules.

const (
	// maxVisits bounds the nodes visited per file, so aliases fanning out
	// into aliases ("billion laughs") cannot make decoding explode.
	maxVisits = 100_000
	// maxMergeDepth bounds merge keys nested through aliases.
	maxMergeDepth = 16
)

var durationType = reflect.TypeFor[Duration]()

type decoder struct {
	file      string
	lookup    func(string) string
	set       map[string]bool
	errs      []error
	budget    int
	exhausted bool
}

func newDecoder(file string, lookup func(string) string, set map[string]bool) *decoder {
	return &decoder{file: file, lookup: lookup, set: set, budget: maxVisits}
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{File: d.file, Line: n.Line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// spend takes one visit from the budget and reports whether any was left.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	if d.budget > 0 {
		d.budget--
		return true
	}
	if !d.exhausted {
		d.exhausted = true
		d.fail(n, path, "document too large (more than %d nodes after alias expansion)", maxVisits)
	}
	return false
}

// deref follows an alias to its anchored node.
func (d *decoder) deref(n *yaml.Node, path string) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || n.Alias.Kind == yaml.AliasNode {
			d.fail(n, path, "unresolved alias %q", n.Value)
			return nil
		}
		return n.Alias
	}
	return n
}

// parseDocument parses data, which must hold at most one YAML document, and
// returns its root node; nil for an empty document.
func parseDocument(data []byte, file string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("config: parsing %s: %w", file, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("config: parsing %s: %w", file, err)
	default:
		return nil, &FieldError{File: file, Line: extra.Line, Msg: "only one YAML document is allowed"}
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		root = doc.Content[0]
	}
	if isNull(root) {
		return nil, nil
	}
	return root, nil
}

// decode stores n into v; path is n's YAML path for messages.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n = d.deref(n, path); n == nil || !d.spend(n, path) {
		return
	}
	if isNull(n) {
		v.SetZero() // "key:" with no value leaves the default to apply
		return
	}
	d.set[path] = true
	switch {
	case v.Type() == durationType:
		d.decodeDuration(n, v, path)
	case v.Kind() == reflect.Struct:
		d.decodeStruct(n, v, path)
	case v.Kind() == reflect.Map:
		d.decodeMap(n, v, path)
	case v.Kind() == reflect.Slice:
		d.decodeSlice(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	for _, p := range d.pairs(n, path) {
		name := p.key.Value
		i, ok := fields.index[name]
		if !ok {
			msg := fmt.Sprintf("unknown key %q; valid keys: %s", name, fields.names)
			if path == "" && name == "providers" {
				msg += " (providers belong in providers.yaml)"
			}
			d.fail(p.key, join(path, name), "%s", msg)
			continue
		}
		d.decode(p.value, v.Field(i), join(path, name))
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, p := range d.pairs(n, path) {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(p.value, elem, join(path, p.key.Value))
		m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	val, ok := d.scalar(n, path)
	if !ok {
		return
	}
	dur, err := ParseDuration(val)
	if err != nil {
		d.fail(n, path, "%v", err)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	val, ok := d.scalar(n, path)
	if !ok {
		return
	}
	if v.Kind() == reflect.String {
		// Any scalar is taken as written: "secret: 0123" keeps its zero.
		v.SetString(val)
		return
	}
	tmp := *n
	if val != n.Value {
		tmp.Value = val
		if isPlain(n) {
			// Let yaml.v3 re-resolve the expanded text, so that
			// "port: ${PORT}" becomes an integer.
			tmp.Tag = ""
		}
	}
	ptr := reflect.New(v.Type())
	if err := tmp.Decode(ptr.Interface()); err != nil {
		msg := fmt.Sprintf("expected %s, got %q", describe(v.Type()), val)
		if !isPlain(n) {
			msg += " (a quoted or tagged value is a string)"
		}
		d.fail(n, path, "%s", msg)
		return
	}
	v.Set(ptr.Elem())
}

// scalar returns n's text with ${} expanded in string scalars.
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected a single value, got %s", kindName(n))
		return "", false
	}
	if n.ShortTag() != "!!str" {
		return n.Value, true
	}
	val, err := expand(n.Value, d.lookup)
	if err != nil {
		d.fail(n, path, "%v", err)
		return "", false
	}
	return val, true
}

type pair struct{ key, value *yaml.Node }

// pairs returns a mapping's entries in written order with merge keys (<<)
// flattened in place. As YAML specifies, an explicit key beats a merged
// one and an earlier merged mapping beats a later one. Duplicate explicit
// keys and non-scalar keys are reported and dropped.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	return d.collect(n, path, 0)
}

func (d *decoder) collect(n *yaml.Node, path string, depth int) []pair {
	keys := make([]*yaml.Node, len(n.Content)/2)
	explicit := make(map[string]bool, len(keys))
	for i := range keys {
		k := d.deref(n.Content[2*i], path)
		if k == nil {
			continue
		}
		if isMerge(k) {
			keys[i] = k
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) || k.Value == "" {
			d.fail(k, path, "a key must be a non-empty string, got %s", kindName(k))
			continue
		}
		keys[i] = k
		explicit[k.Value] = true
	}
	out := make([]pair, 0, len(keys))
	have := make(map[string]bool, len(keys))
	for i, k := range keys {
		if k == nil || !d.spend(k, path) {
			continue
		}
		val := n.Content[2*i+1]
		if isMerge(k) {
			for _, mp := range d.merged(val, path, depth) {
				if !explicit[mp.key.Value] && !have[mp.key.Value] {
					have[mp.key.Value] = true
					out = append(out, mp)
				}
			}
			continue
		}
		if have[k.Value] {
			d.fail(k, join(path, k.Value), "duplicate key %q", k.Value)
			continue
		}
		have[k.Value] = true
		out = append(out, pair{k, val})
	}
	return out
}

// merged returns the entries a merge key's value brings in.
func (d *decoder) merged(val *yaml.Node, path string, depth int) []pair {
	if depth >= maxMergeDepth {
		d.fail(val, path, "merge keys (<<) nested more than %d deep", maxMergeDepth)
		return nil
	}
	if val = d.deref(val, path); val == nil {
		return nil
	}
	switch val.Kind {
	case yaml.MappingNode:
		return d.collect(val, path, depth+1)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range val.Content {
			item = d.deref(item, path)
			if item == nil {
				continue
			}
			if item.Kind != yaml.MappingNode {
				d.fail(item, path, "a merge key (<<) takes a mapping or a list of mappings, got %s", kindName(item))
				continue
			}
			out = append(out, d.collect(item, path, depth+1)...)
		}
		return out
	default:
		d.fail(val, path, "a merge key (<<) takes a mapping or a list of mappings, got %s", kindName(val))
		return nil
	}
}

// structFields maps a struct's yaml names to field indexes.
type structFields struct {
	index map[string]int
	names string // sorted, for "valid keys" messages
}

var fieldCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	sf := &structFields{index: make(map[string]int)}
	var names []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			sf.index[name] = i
			names = append(names, name)
		}
	}
	sort.Strings(names)
	sf.names = strings.Join(names, ", ")
	f, _ := fieldCache.LoadOrStore(t, sf)
	return f.(*structFields)
}

// yamlName is a field's YAML key; "" when the field is not in YAML.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMerge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && n.ShortTag() == "!!merge"
}

// isPlain reports an unquoted, untagged scalar, whose type YAML infers.
func isPlain(n *yaml.Node) bool {
	const typed = yaml.TaggedStyle | yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle |
		yaml.LiteralStyle | yaml.FoldedStyle
	return n.Style&typed == 0
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a document"
	}
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "a " + t.String()
	}
}
