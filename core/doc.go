// Package core holds what every stage of the proxy shares: the Error a stage
// returns when a request must be refused, carrying the HTTP status and the
// OpenAI error fields the client SDKs read. Subpackages each have one job.
package core
