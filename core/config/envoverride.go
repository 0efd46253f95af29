package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// EnvPrefix starts every override variable: TOKENOMICS_SERVER_HTTP_PORT
// sets server.http_port.
const EnvPrefix = "TOKENOMICS_"

// envField is one overridable field.
type envField struct {
	path  string // YAML path, "server.http_port"
	index []int  // reflect index from Config
}

// envFields maps override variable names to fields, built once from the
// yaml tags so a new scalar field is overridable without more code.
var envFields = sync.OnceValue(func() map[string]envField {
	out := make(map[string]envField)
	collectEnvFields(reflect.TypeFor[Config](), "", nil, out)
	return out
})

func collectEnvFields(t reflect.Type, path string, index []int, out map[string]envField) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		p := join(path, name)
		idx := append(slices.Clone(index), i)
		switch {
		case overridable(f.Type):
			v := EnvPrefix + strings.ToUpper(strings.ReplaceAll(p, ".", "_"))
			if prev, dup := out[v]; dup {
				panic(fmt.Sprintf("config: %s and %s both map to %s", prev.path, p, v))
			}
			out[v] = envField{path: p, index: idx}
		case f.Type.Kind() == reflect.Struct:
			collectEnvFields(f.Type, p, idx, out)
		}
	}
}

func overridable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// EnvOverrides lists the override variables and the YAML path each sets,
// sorted by variable name (for help text and doctor).
func EnvOverrides() [][2]string {
	fields := envFields()
	out := make([][2]string, 0, len(fields))
	for name, f := range fields {
		out = append(out, [2]string{name, f.path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// applyEnv sets the fields named by TOKENOMICS_* variables in env. Variables
// naming no field are ignored: TOKENOMICS_HASH_KEY and friends hold secrets.
func (c *Config) applyEnv(env map[string]string) []error {
	fields := envFields()
	names := make([]string, 0, 8)
	for name := range env {
		if _, ok := fields[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names) // stable error order
	var errs []error
	root := reflect.ValueOf(c).Elem()
	for _, name := range names {
		f, val := fields[name], env[name]
		if err := setFromString(root.FieldByIndex(f.index), val); err != nil {
			errs = append(errs, &FieldError{Env: name, Field: f.path, Msg: err.Error()})
			continue
		}
		if val == "" {
			delete(c.set, f.path) // cleared: the default applies
		} else {
			c.set[f.path] = true
		}
	}
	return errs
}

// setFromString parses s into v. An empty s stores the zero value.
func setFromString(v reflect.Value, s string) error {
	if s == "" {
		v.SetZero()
		return nil
	}
	switch {
	case v.Type() == durationType:
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("expected true or false, got %q", s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items).Convert(v.Type()))
	default: // signed integers, see overridable
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("expected an integer, got %q", s)
		}
		v.SetInt(n)
	}
	return nil
}
