package detect

import "net/netip"

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// Luhn reports whether the decimal digits in b (other bytes are skipped)
// pass the Luhn checksum.
func Luhn(b []byte) bool {
	sum, n := 0, 0
	for i := len(b) - 1; i >= 0; i-- {
		c := b[i]
		if !isDigit(c) {
			continue
		}
		d := int(c - '0')
		if n%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n > 0 && sum%10 == 0
}

// validateCard accepts 13-19 digits with a known issuer prefix that pass
// Luhn. A candidate that ran into a following number ("4111 1111 1111 1111
// 12") is retried without its last group.
func validateCard(m []byte) int {
	for end := len(m); end > 0; {
		if cardOK(m[:end]) {
			return end
		}
		// Drop the last separator-delimited group and retry.
		i := end - 1
		for i >= 0 && isDigit(m[i]) {
			i--
		}
		if i <= 0 || i == end-1 {
			return 0
		}
		end = i
	}
	return 0
}

func cardOK(m []byte) bool {
	var digits [19]byte
	n := 0
	for _, c := range m {
		if isDigit(c) {
			if n == len(digits) {
				return false
			}
			digits[n] = c
			n++
		}
	}
	if n < 13 || !knownIssuer(digits[:n]) {
		return false
	}
	return Luhn(digits[:n])
}

func knownIssuer(d []byte) bool {
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	n := len(d)
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 == 6011, p2 == 65, p4/10 >= 644 && p4/10 <= 649: // Discover
		return n >= 16
	case p2 == 36 || p2 == 38 || p4/10 >= 300 && p4/10 <= 305: // Diners Club
		return n >= 14
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16
	case p2 == 62: // UnionPay
		return n >= 16
	case p2 == 50 || p2 >= 56 && p2 <= 69: // Maestro
		return n >= 12
	}
	return false
}

// validateSSN applies the SSA's format rules: one separator style, area not
// 000, 666 or 900-999, group not 00, serial not 0000.
func validateSSN(m []byte) int {
	if len(m) != 11 || m[3] != m[6] {
		return 0
	}
	area := string(m[0:3])
	if area == "000" || area == "666" || m[0] == '9' {
		return 0
	}
	if string(m[4:6]) == "00" || string(m[7:11]) == "0000" {
		return 0
	}
	return len(m)
}

// validateEmail rejects local parts that start or end with a dot or hold "..".
func validateEmail(m []byte) int {
	at := -1
	for i, c := range m {
		if c == '@' {
			at = i
			break
		}
	}
	if at <= 0 || m[0] == '.' || m[at-1] == '.' {
		return 0
	}
	for i := 1; i < at; i++ {
		if m[i] == '.' && m[i-1] == '.' {
			return 0
		}
	}
	return len(m)
}

// validateIP accepts dotted IPv4 with octets up to 255 (no leading zeros) and
// IPv6 with at least three non-empty groups ("fe80::1", not "a::" in code).
func validateIP(m []byte) int {
	v4 := true
	for _, c := range m {
		if c == ':' {
			v4 = false
			break
		}
	}
	if v4 {
		if _, err := netip.ParseAddr(string(m)); err != nil {
			return 0
		}
		return len(m)
	}
	groups, inGroup := 0, false
	for _, c := range m {
		if c == ':' {
			inGroup = false
			continue
		}
		if !inGroup {
			groups++
			inGroup = true
		}
	}
	if groups < 3 {
		return 0
	}
	if a, err := netip.ParseAddr(string(m)); err != nil || !a.Is6() {
		return 0
	}
	return len(m)
}

// validatePhone wants 10 to 15 digits, and a North American area and
// exchange code that do not start with 0 or 1 when the number has no other
// country code.
func validatePhone(m []byte) int {
	var d [16]byte
	n := 0
	for _, c := range m {
		if isDigit(c) {
			if n == len(d) {
				return 0
			}
			d[n] = c
			n++
		}
	}
	if n < 10 || n > 15 {
		return 0
	}
	nanp := m[0] != '+' || (len(m) > 1 && m[1] == '1' && n == 11)
	if nanp {
		off := n - 10
		if n != 10 && n != 11 || d[off] < '2' || d[off+3] < '2' {
			return 0
		}
	}
	return len(m)
}

// validateAPIKey keeps vendor-prefixed keys and asks generic assignments
// ("api_key = ...") for a value with both letters and digits, so
// placeholders such as "your_api_key_here" pass unmasked.
func validateAPIKey(m []byte) int {
	var letters, digits bool
	for _, c := range m {
		letters = letters || isAlpha(c)
		digits = digits || isDigit(c)
	}
	if !letters || !digits {
		return 0
	}
	return len(m)
}
