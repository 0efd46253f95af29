package benchdata

// Question is a plausible contractor question of about 800 bytes. It avoids
// the contractor rules' refusal patterns but holds one e-mail address and
// one phone number, so the PII rule really rewrites the body rather than
// only scanning it.
const Question = `I am reviewing a Go service that batches writes to a bbolt database. ` +
	`Each HTTP handler appends a record to a channel, and a single goroutine drains the channel ` +
	`every 50 milliseconds and writes the batch in one Update transaction. Under load the p99 ` +
	`latency of the handlers grows from 2 ms to 40 ms, and the channel (capacity 1024) is often ` +
	`full. The records are small JSON documents of about 300 bytes with a monotonically increasing ` +
	`key. Should I switch to db.Batch, increase the channel capacity, or split the database into ` +
	`several files by key range? Please explain the trade-offs, how fsync cost grows with batch ` +
	`size, and show a short example of the drain loop with a bounded flush interval. The owner of ` +
	`the service is maria.keller@example.com, (415) 555-0132, if you need the original design notes.`

// ContractorRules are the seed's contractor rules exactly
// (test/testdata/compat/policies/contractor.json), a JSON array.
const ContractorRules = `[
    {"name": "pii-mask", "type": "pii", "detect": ["ssn", "credit_card", "email", "phone", "aws_key", "api_key"], "action": "mask", "scope": "both"},
    {"name": "prompt-injection", "type": "regex", "pattern": "(?i)(ignore.*instructions|system.*prompt|you are now)", "action": "fail"},
    {"name": "dangerous-keywords", "type": "keyword", "keywords": ["jailbreak", "bypass", "override", "hack"], "action": "fail"}
  ]`
