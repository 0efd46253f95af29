package proxy

import (
	"errors"
	"fmt"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// parseError answers a body the adapters refused. A repeated or variant
// member name gets its own code: the JSON is valid, but the gateway and a
// provider could read it differently, so it is never forwarded.
func parseError(err error) error {
	if ke := (*providers.KeyError)(nil); errors.As(err, &ke) {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "ambiguous_field",
			Message: "The request body is ambiguous: " + ke.Error() + ".", Err: err}
	}
	if errors.Is(err, providers.ErrTooLarge) {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "request_too_large",
			Message: fmt.Sprintf("The request holds more than the gateway checks (at most %d messages and %d texts).",
				providers.MaxMessages, providers.MaxTexts), Err: err}
	}
	return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_json",
		Message: "The request body could not be read: " + err.Error(), Err: err}
}
