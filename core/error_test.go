package core

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  *Error
	}{
		{"plain", Errorf(401, TypeAuthentication, "invalid_api_key", "invalid token")},
		{"quotes and unicode", Errorf(400, TypeInvalidRequest, "bad", "field \"x\" é \n")},
		{"param", &Error{Status: 400, Type: TypeInvalidRequest, Code: "c", Message: "m", Param: "model"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got struct {
				Error struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Code    string  `json:"code"`
					Param   *string `json:"param"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal(tc.err.AppendJSON(nil), &got))
			assert.Equal(t, tc.err.Message, got.Error.Message)
			assert.Equal(t, tc.err.Type, got.Error.Type)
			assert.Equal(t, tc.err.Code, got.Error.Code)
			if tc.err.Param != "" {
				require.NotNil(t, got.Error.Param)
				assert.Equal(t, tc.err.Param, *got.Error.Param)
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	e := &Error{Status: 502, Code: "upstream", Message: "m", Err: cause}
	assert.ErrorIs(t, e, cause)
	assert.Contains(t, e.Error(), "boom")
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "q\"b\\s", "\x00\x01\x1f\x7f", "é漢字🙂", "bad\xffutf8", "\u2028"} {
		var back string
		require.NoError(t, json.Unmarshal(AppendJSONString(nil, s), &back), "%q", s)
		if s != "bad\xffutf8" {
			assert.Equal(t, s, back)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("a\"b")
	f.Fuzz(func(t *testing.T, s string) {
		var back string
		if err := json.Unmarshal(AppendJSONString(nil, s), &back); err != nil {
			t.Fatalf("invalid JSON for %q: %v", s, err)
		}
	})
}
