package detect

import (
	"regexp"
	"testing"
)

func TestPatternsCompile(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, d := range Detectors {
		if seen[d.Name] || d.MaxLen <= 0 || len(d.Patterns) == 0 {
			t.Fatalf("detector %q: duplicate, no MaxLen or no patterns", d.Name)
		}
		seen[d.Name] = true
		for _, p := range d.Patterns {
			if _, err := regexp.Compile(p); err != nil {
				t.Fatalf("detector %q: %v", d.Name, err)
			}
		}
	}
	for _, n := range []string{"ssn", "credit_card", "email", "phone", "ip_address", "aws_key", "api_key", "jwt", "private_key", "connection_string", "github_token"} {
		if _, ok := Lookup(n); !ok {
			t.Fatalf("detector %q missing", n)
		}
	}
}

func TestValidators(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   func([]byte) int
		in   string
		want int
	}{
		{name: "luhn visa", fn: validateCard, in: "4111 1111 1111 1111", want: 19},
		{name: "luhn fails", fn: validateCard, in: "4111 1111 1111 1112", want: 0},
		{name: "card trims a trailing group", fn: validateCard, in: "4111 1111 1111 1111 12", want: 19},
		{name: "amex length", fn: validateCard, in: "378282246310005", want: 15},
		{name: "visa wrong length", fn: validateCard, in: "41111111111111", want: 0},
		{name: "ssn ok", fn: validateSSN, in: "123-45-6789", want: 11},
		{name: "ssn 666", fn: validateSSN, in: "666-45-6789", want: 0},
		{name: "ssn mixed", fn: validateSSN, in: "123-45 6789", want: 0},
		{name: "email ok", fn: validateEmail, in: "a.b@c.io", want: 8},
		{name: "email trailing dot", fn: validateEmail, in: "a.@c.io", want: 0},
		{name: "ipv4 ok", fn: validateIP, in: "10.0.0.255", want: 10},
		{name: "ipv4 256", fn: validateIP, in: "10.0.0.256", want: 0},
		{name: "ipv6 two groups", fn: validateIP, in: "a::b", want: 0},
		{name: "ipv6 ok", fn: validateIP, in: "fe80::1:2", want: 9},
		{name: "phone nanp", fn: validatePhone, in: "(415) 555-0132", want: 14},
		{name: "phone exchange 1xx", fn: validatePhone, in: "415-155-0132", want: 0},
		{name: "phone international", fn: validatePhone, in: "+44 20 7946 0958", want: 16},
		{name: "api key placeholder", fn: validateAPIKey, in: "your_key_goes_here", want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.fn([]byte(tc.in)); got != tc.want {
				t.Fatalf("%q: got %d, want %d", tc.in, got, tc.want)
			}
		})
	}
	if !Luhn([]byte("79927398713")) || Luhn([]byte("79927398710")) || Luhn(nil) {
		t.Fatal("Luhn")
	}
}
