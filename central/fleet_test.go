package central

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
)

func TestFleetRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := fleet.NewClient(f.url, testAPIKey, nil)

	st, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Proxies)
	assert.NotNil(t, st.Proxies, "an empty fleet is [], not null")

	rep := fleet.Report{Instance: "px01", Name: "edge-1", Version: "1.0.0", Revision: 0, Ready: true,
		Plugins: []fleet.Plugin{{Name: "pii", Version: "1.2.0", SHA256: strings.Repeat("a", 64), Tokens: 3, State: fleet.StateActive}}}
	require.NoError(t, c.Post(ctx, rep))
	rep2 := fleet.Report{Instance: "px02", Name: "edge-0", Revision: 0}
	require.NoError(t, c.Post(ctx, rep2))
	rep.Revision = 0
	rep.Ready = false
	require.NoError(t, c.Post(ctx, rep)) // replaces px01's report

	st, err = c.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st.Proxies, 2)
	assert.Equal(t, "edge-0", st.Proxies[0].Name, "sorted by name")
	assert.Equal(t, []fleet.Plugin{}, st.Proxies[0].Plugins)
	assert.False(t, st.Proxies[1].Ready)
	assert.Equal(t, int64(st.Revision), st.Proxies[1].Lag)
	assert.WithinDuration(t, time.Now(), st.Proxies[1].LastContact, time.Minute)

	for _, tc := range []struct {
		name   string
		report fleet.Report
	}{
		{"no instance", fleet.Report{}},
		{"instance with a slash", fleet.Report{Instance: "a/b"}},
		{"bad state", fleet.Report{Instance: "px", Plugins: []fleet.Plugin{{Name: "x", State: "great"}}}},
		{"plugin without name", fleet.Report{Instance: "px", Plugins: []fleet.Plugin{{State: fleet.StateActive}}}},
		{"negative tokens", fleet.Report{Instance: "px", Plugins: []fleet.Plugin{{Name: "x", State: fleet.StateActive, Tokens: -1}}}},
		{"long error", fleet.Report{Instance: "px", Plugins: []fleet.Plugin{{Name: "x", State: fleet.StateFailed, Error: strings.Repeat("e", 500)}}}},
		{"too many plugins", fleet.Report{Instance: "px", Plugins: make([]fleet.Plugin, fleet.MaxPlugins+1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Post(ctx, tc.report)
			se, ok := err.(*fleet.StatusError)
			require.True(t, ok, "%v", err)
			assert.Equal(t, http.StatusBadRequest, se.Code)
		})
	}

	big := `{"instance":"px","name":"` + strings.Repeat("n", fleet.MaxReportBytes) + `"}`
	req, _ := http.NewRequest(http.MethodPost, f.url+"/api/v1/fleet", strings.NewReader(big))
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	err = fleet.NewClient(f.url, "wrong", nil).Post(ctx, rep)
	se, ok := err.(*fleet.StatusError)
	require.True(t, ok, "%v", err)
	assert.Equal(t, http.StatusUnauthorized, se.Code)
}
