package detect

// Detector is one kind of sensitive data.
type Detector struct {
	// Name is the policy's detector name, also used in "[REDACTED:<name>]".
	Name string
	// Patterns find candidates.
	Patterns []string
	// MaxLen bounds the length of a match, in bytes (stream hold-back).
	MaxLen int
	// Validate returns how many bytes of the candidate m are the detected
	// value (len(m) to accept it whole, 0 to reject). nil accepts all.
	Validate func(m []byte) int
}

// Detectors in priority order: when two detectors match overlapping spans the
// plugin keeps the longer match, and the earlier detector on a tie.
var Detectors = []Detector{
	{Name: "private_key", MaxLen: 8192, Patterns: []string{
		`-----BEGIN[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----)?`,
	}},
	{Name: "connection_string", MaxLen: 512, Patterns: []string{
		`(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|jdbc:[a-z0-9]+)://[^\s:/@'"]+:[^\s@/'"]+@[^\s'"<>]+`,
		`(?i)\b(?:server|data source|host)=[^;\n]{1,128};[^\n]{0,256}?\b(?:password|pwd)=[^;\s'"]+`,
	}},
	{Name: "jwt", MaxLen: 4096, Patterns: []string{
		`\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`,
	}},
	{Name: "github_token", MaxLen: 300, Patterns: []string{
		`\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b`,
		`\bgithub_pat_[A-Za-z0-9_]{22,255}\b`,
	}},
	{Name: "aws_key", MaxLen: 128, Patterns: []string{
		`\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b`,
		`(?i)\baws_?secret_?access_?key["']?\s{0,4}[:=]\s{0,4}["']?(?P<match>[A-Za-z0-9/+]{40})\b`,
	}},
	{Name: "api_key", MaxLen: 256, Validate: validateAPIKey, Patterns: []string{
		`\bsk-[A-Za-z0-9_-]{20,200}`,
		`\bAIza[0-9A-Za-z_-]{35}\b`,
		`\bxox[abprs]-[A-Za-z0-9-]{10,200}`,
		`\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,200}`,
		`(?i)\b(?:api[_-]?key|secret[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)["']?\s{0,4}[:=]\s{0,4}["']?(?P<match>[A-Za-z0-9_\-./+=]{16,200})`,
		`\bBearer\s{1,4}(?P<match>[A-Za-z0-9._~+/=-]{20,200})`,
	}},
	{Name: "credit_card", MaxLen: 32, Validate: validateCard, Patterns: []string{
		`\b\d(?:[ -]?\d){12,18}\b`,
	}},
	{Name: "ssn", MaxLen: 11, Validate: validateSSN, Patterns: []string{
		`\b\d{3}[- ]\d{2}[- ]\d{4}\b`,
	}},
	{Name: "email", MaxLen: 254, Validate: validateEmail, Patterns: []string{
		`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b`,
	}},
	{Name: "ip_address", MaxLen: 45, Validate: validateIP, Patterns: []string{
		`\b(?:\d{1,3}\.){3}\d{1,3}\b`,
		`(?i)(?:\b[0-9a-f]{1,4})?(?::[0-9a-f]{0,4}){2,7}\b`,
	}},
	{Name: "phone", MaxLen: 24, Validate: validatePhone, Patterns: []string{
		`(?:\+1[ .-]?)?(?:\(\d{3}\) ?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b`,
		`\+\d{1,3}[ .-]?\d{1,4}(?:[ .-]?\d{2,4}){2,4}\b`,
	}},
}

// Lookup returns the detector called name.
func Lookup(name string) (Detector, bool) {
	for _, d := range Detectors {
		if d.Name == name {
			return d, true
		}
	}
	return Detector{}, false
}

// Names lists the detector names in priority order.
func Names() []string {
	out := make([]string, len(Detectors))
	for i, d := range Detectors {
		out[i] = d.Name
	}
	return out
}
