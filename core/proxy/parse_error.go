package proxy

import (
	"errors"
	"fmt"
	"strings"

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
	if errors.Is(err, providers.ErrUncheckable) {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "uncheckable_content",
			Message: "The request holds content the token's content rules cannot read, so it is not forwarded: " + uncheckableReason(err) + ".", Err: err}
	}
	if errors.Is(err, providers.ErrTooLarge) {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "request_too_large",
			Message: fmt.Sprintf("The request holds more than the gateway checks (at most %d messages and %d texts).",
				providers.MaxMessages, providers.MaxTexts), Err: err}
	}
	return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_json",
		Message: "The request body could not be read: " + err.Error(), Err: err}
}

// uncheckableReason is the adapter's reason after the sentinel's text.
func uncheckableReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, providers.ErrUncheckable.Error()+": "); i >= 0 {
		return msg[i+len(providers.ErrUncheckable.Error())+2:]
	}
	return msg
}
