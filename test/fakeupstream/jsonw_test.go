package fakeupstream

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func FuzzAppendStr(f *testing.F) {
	for _, s := range []string{"", "plain", `quo"te\back`, "ctl\x00\x1f\n\r\t", "bad\xff\xfeutf8", "sep\u2028\u2029", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendStr(nil, s)
		require.True(t, json.Valid(got), "%q", got)
		want, err := json.Marshal(s)
		require.NoError(t, err)
		var a, b string
		require.NoError(t, json.Unmarshal(got, &a))
		require.NoError(t, json.Unmarshal(want, &b))
		require.Equal(t, b, a)
	})
}
