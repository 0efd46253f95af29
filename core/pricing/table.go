package pricing

// Table finds a model's price on a provider. It is immutable once built
// and safe for concurrent use; Lookup does not allocate.
type Table struct {
	byProvider map[key]entry
	byModel    map[string]entry
}

type key struct{ provider, model string }

// entry keeps the model name as the table spells it, so metrics can label
// by a string the table owns rather than one a client sent.
type entry struct {
	model string
	price Price
}

// NewTable builds a table from the shipped defaults (unless noDefaults),
// then the operator's model-wide prices (each replacing a default of the
// same model whole), then the per-provider prices, which win over both for
// their provider. The maps are copied.
func NewTable(models map[string]Price, providers map[string]map[string]Price, noDefaults bool) *Table {
	t := &Table{byProvider: map[key]entry{}, byModel: map[string]entry{}}
	if !noDefaults {
		for m, p := range Defaults() {
			t.byModel[m] = entry{model: m, price: p}
		}
	}
	for m, p := range models {
		t.byModel[m] = entry{model: m, price: p}
	}
	for prov, ms := range providers {
		for m, p := range ms {
			t.byProvider[key{prov, m}] = entry{model: m, price: p}
		}
	}
	return t
}

// Lookup returns the price of model on provider, the model name as the
// table spells it, and whether there is one. A nil table knows no price.
func (t *Table) Lookup(provider, model string) (Price, string, bool) {
	if t == nil {
		return Price{}, "", false
	}
	if e, ok := t.byProvider[key{provider, model}]; ok {
		return e.price, e.model, true
	}
	if e, ok := t.byModel[model]; ok {
		return e.price, e.model, true
	}
	return Price{}, "", false
}
