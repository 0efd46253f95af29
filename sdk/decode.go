//go:build !sdk_nojson

package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Decode unmarshals Raw into v, rejecting unknown fields. Empty Raw leaves v
// untouched.
//
// Built with the tag sdk_nojson, the package leaves Decode out, and with it
// encoding/json, fmt and os: about 1.5 MB of module, and 5 MB of compiled
// code on every proxy. The built-in module is built so: the host hands
// built-in rules their config as abi fields (abi.DecodeFields).
func (c *Config) Decode(v any) error {
	if len(bytes.TrimSpace(c.Raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.Raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding plugin config: %w", err)
	}
	return nil
}
