package config

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/tokenomics-dev/tokenomics/core/pricing"
)

// ModelPrice is one model's list price in providers.yaml, in USD as plain
// decimals: per 1M tokens for the token rates, per request for Request.
// Input and Output are required; a rate left out is charged at the rate
// that can only over-charge (cached and cache_write at input, reasoning at
// output). The text is kept as written and read exactly (see
// pricing.ParseUSD): 0.075 is 75,000 micro-dollars, never a float.
//
//	pricing:
//	  gpt-4o: {input: 2.50, cached_input: 1.25, output: 10.00}
type ModelPrice struct {
	Input       string `yaml:"input"`
	CachedInput string `yaml:"cached_input"`
	CacheWrite  string `yaml:"cache_write"`
	Output      string `yaml:"output"`
	Reasoning   string `yaml:"reasoning"`
	Request     string `yaml:"request"`
}

func (m ModelPrice) rates() pricing.Rates {
	return pricing.Rates{Input: m.Input, CachedInput: m.CachedInput, CacheWrite: m.CacheWrite,
		Output: m.Output, Reasoning: m.Reasoning, Request: m.Request}
}

// PriceTable builds the prices requests are charged at: the shipped
// defaults (core/pricing), replaced per model by providers.yaml's top-level
// pricing, and per provider by a provider's own pricing. Call it on a
// validated Config.
func (c *Config) PriceTable() (*pricing.Table, error) {
	var errs []error
	models := make(map[string]pricing.Price, len(c.Pricing))
	for m, mp := range c.Pricing {
		p, err := pricing.ParsePrice(mp.rates())
		if err != nil {
			errs = append(errs, err)
		}
		models[m] = p
	}
	byProv := map[string]map[string]pricing.Price{}
	for _, pr := range c.Providers {
		for m, mp := range pr.Pricing {
			p, err := pricing.ParsePrice(mp.rates())
			if err != nil {
				errs = append(errs, err)
			}
			if byProv[pr.Name] == nil {
				byProv[pr.Name] = map[string]pricing.Price{}
			}
			byProv[pr.Name][m] = p
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return pricing.NewTable(models, byProv, false), nil
}

// validatePricing reports every rate that does not parse, by its path.
func (c *Config) validatePricing(p *problems) {
	check := func(at string, prices map[string]ModelPrice) {
		for _, m := range slices.Sorted(maps.Keys(prices)) {
			if strings.TrimSpace(m) == "" {
				p.add(at, "model name must not be empty")
				continue
			}
			_, err := pricing.ParsePrice(prices[m].rates())
			var fe *pricing.FieldError
			for _, e := range unjoin(err) {
				if errors.As(e, &fe) {
					p.add(at+"."+m+"."+fe.Field, "%v", fe.Err)
				} else {
					p.add(at+"."+m, "%v", e)
				}
			}
		}
	}
	check("pricing", c.Pricing)
	for _, pr := range c.Providers {
		check("providers."+pr.Name+".pricing", pr.Pricing)
	}
}

// unjoin lists the errors errors.Join combined (or err alone).
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
