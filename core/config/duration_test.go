package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{name: "seconds unit", in: "30s", want: 30 * time.Second},
		{name: "minutes", in: "5m", want: 5 * time.Minute},
		{name: "hours", in: "1h", want: time.Hour},
		{name: "compound", in: "1h30m", want: 90 * time.Minute},
		{name: "millis", in: "200ms", want: 200 * time.Millisecond},
		{name: "days", in: "7d", want: 7 * 24 * time.Hour},
		{name: "days and hours", in: "1d12h", want: 36 * time.Hour},
		{name: "plain integer is seconds", in: "300", want: 300 * time.Second},
		{name: "zero", in: "0", want: 0},
		{name: "spaces", in: " 10s ", want: 10 * time.Second},
		{name: "negative", in: "-5s", want: -5 * time.Second},
		{name: "empty", in: "", wantErr: true},
		{name: "no unit float", in: "1.5", wantErr: true},
		{name: "words", in: "soon", wantErr: true},
		{name: "bad days", in: "xd", wantErr: true},
		{name: "negative days", in: "-1d", wantErr: true},
		{name: "bad after days", in: "1dzz", wantErr: true},
		{name: "seconds overflow", in: "99999999999", wantErr: true},
		{name: "days overflow", in: "999999d", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDuration(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.D())
		})
	}
}

func TestDurationYAML(t *testing.T) {
	t.Parallel()
	var v struct {
		A Duration `yaml:"a"`
		B Duration `yaml:"b"`
	}
	require.NoError(t, yaml.Unmarshal([]byte("a: 7d\nb: 15\n"), &v))
	assert.Equal(t, Duration(7*24*time.Hour), v.A)
	assert.Equal(t, Duration(15*time.Second), v.B)

	out, err := yaml.Marshal(v)
	require.NoError(t, err)
	var back struct {
		A Duration `yaml:"a"`
		B Duration `yaml:"b"`
	}
	require.NoError(t, yaml.Unmarshal(out, &back))
	assert.Equal(t, v, back)

	require.Error(t, yaml.Unmarshal([]byte("a: [1]\n"), &v))
	require.Error(t, yaml.Unmarshal([]byte("a: later\n"), &v))
}
