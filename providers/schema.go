package providers

// SchemaKeyword reports whether a member name of a JSON schema is one of
// the schema language's own words (type, properties, required, ...). Such
// a name is a fixed word, so it can carry nothing of the client's and the
// walkers do not hand it to the content rules: a tool schema is mostly
// keywords, and each text the rules read costs a rule call. A property
// that happens to be called "title" is skipped too, for the same reason.
// key is the literal's inner bytes; an escaped spelling is not a keyword.
func SchemaKeyword(key []byte) bool {
	switch string(key) {
	case "type", "properties", "items", "required", "description", "title", "enum", "const",
		"default", "examples", "format", "pattern", "minimum", "maximum", "exclusiveMinimum",
		"exclusiveMaximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems",
		"uniqueItems", "minProperties", "maxProperties", "additionalProperties",
		"patternProperties", "propertyNames", "anyOf", "allOf", "oneOf", "not", "if", "then",
		"else", "prefixItems", "contains", "$ref", "$defs", "definitions", "$schema", "$id",
		"$comment", "nullable", "strict", "dependentRequired", "dependentSchemas",
		"unevaluatedProperties", "unevaluatedItems", "contentMediaType", "contentEncoding",
		"readOnly", "writeOnly", "deprecated":
		return true
	}
	return false
}

// schemaKey reports a member name literal that is a schema keyword.
func (v Value) schemaKey(body []byte) bool {
	return v.Kind == KindString && !v.Escaped && SchemaKeyword(body[v.Start+1:v.End-1])
}

// IsSchemaKeyword reports whether the member name literal key (unescaped)
// is a schema keyword (see SchemaKeyword).
func IsSchemaKeyword(body []byte, key Value) bool { return key.schemaKey(body) }
