package events

// known is the set of event types this package defines.
var known = map[string]struct{}{
	TokenCreated: {}, TokenUpdated: {}, TokenDeleted: {}, TokenExpired: {},
	BudgetExceeded: {}, RateExceeded: {},
	RuleViolation: {}, RuleWarning: {}, RuleMasked: {}, RuleLogged: {}, RuleError: {},
	RequestCompleted: {}, PluginUploaded: {}, PluginDeleted: {}, ServerStart: {},
	TokenSync: {},
}

// Known reports whether typ is one of the event types this package defines.
// A receiver uses it to keep labels it derives from a sender's type bounded.
func Known(typ string) bool {
	_, ok := known[typ]
	return ok
}
