package central_test

import (
	"testing"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/central/fleettest"
)

// TestMemoryFleetConformance runs the suite the PostgreSQL store passes
// (central/pgfleet).
func TestMemoryFleetConformance(t *testing.T) {
	t.Parallel()
	fleettest.Run(t, func(_ *testing.T, max int) central.FleetStore { return central.NewMemoryFleet(max) })
}
