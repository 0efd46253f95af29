package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target Target
		pass   bool
	}{
		{name: "a third of direct passes", target: throughputTarget(1000, 3000, 32), pass: true},
		{name: "under a third misses", target: throughputTarget(999, 3000, 32), pass: false},
		{name: "no direct run misses", target: throughputTarget(1000, 0, 32), pass: false},
		{name: "added p50 under 1ms passes", target: addedP50Target(999*time.Microsecond, 32), pass: true},
		{name: "added p50 of 1ms misses", target: addedP50Target(time.Millisecond, 32), pass: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.pass, tc.target.Pass, tc.target.Detail)
		})
	}
}
