package cli

import (
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/central/pgfleet"
	"github.com/tokenomics-dev/tokenomics/central/pginbox"
	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
)

// centralUsageBucket holds the fleet's rollups in central's file.
const centralUsageBucket = "usage.fleet.v1"

// withFleet fills the central options for usage rollups, the event inbox
// and the proxies' fleet reports, kept in central's bbolt file (fleet
// reports in memory) or, with storage.backend postgres, in PostgreSQL,
// where every replica serves what any of them received.
func withFleet(o *central.Options, cfg *config.Config, cs *centralStore, _ hclog.Logger) error {
	var us rollup.Store
	var es central.EventStore
	if cs.pg != nil {
		us, es = cs.pg.Usage(), pginbox.New(cs.pg.Pool(), pgstore.DefaultQueryTimeout)
		o.Fleet = pgfleet.New(cs.pg.Pool(), pgstore.DefaultQueryTimeout, 0)
	} else {
		bus, err := rollup.NewBoltStore(cs.bolt.Bolt(), centralUsageBucket)
		if err != nil {
			return err
		}
		bes, err := central.NewBoltEventStore(cs.bolt.Bolt())
		if err != nil {
			return err
		}
		us, es = bus, bes
	}
	vs, err := inboxVerifiers(cfg)
	if err != nil {
		return err
	}
	o.Usage, o.UsageRetention = us, cfg.Usage.Retention.D()
	o.Events, o.EventVerifiers, o.EventRetention = es, vs, cfg.Events.Receiver.Retention.D()
	o.EventPath = cfg.Events.Receiver.Path
	return nil
}

// inboxVerifiers builds the verifiers of central's event inbox: the
// receiver's own credentials when given, else one per distinct credential
// pair of events.webhooks (the fleet shares them, as SEED's configs do).
func inboxVerifiers(cfg *config.Config) ([]*events.Verifier, error) {
	r := cfg.Events.Receiver
	type pair struct{ secret, key string }
	var pairs []pair
	if r.Secret != "" || r.SigningKey != "" {
		pairs = append(pairs, pair{r.Secret, r.SigningKey})
	} else {
		seen := map[pair]bool{}
		for _, w := range cfg.Events.Webhooks {
			p := pair{w.Secret, w.SigningKey}
			if (p.secret == "" && p.key == "") || seen[p] {
				continue
			}
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	var out []*events.Verifier
	for _, p := range pairs {
		v, err := events.NewVerifier(events.VerifierConfig{Secret: p.secret, SigningKey: p.key, MaxSkew: r.MaxSkew.D(), Direction: events.DirReport})
		if err != nil {
			return nil, fmt.Errorf("events.receiver: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}
