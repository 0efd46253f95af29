// Package clientaddr finds the address of the client behind a request to
// the central server, for everything central counts or records per address:
// the console's failed sign-in allowance and audit log, the API's failed
// authentication throttle, and the log lines of the event inbox.
//
// Without trusted proxies (the default) the client is the TCP peer and
// forwarding headers are ignored: any client can write them. Behind a load
// balancer or reverse proxy the peer is the balancer, so every operator
// would share one allowance and one attacker could lock everyone out. The
// operator lists the balancers (console.trusted_proxies, CIDRs or
// addresses); when the peer is one of them, the client is read from
// X-Forwarded-For and the RFC 7239 Forwarded header by walking their hops
// from the right, past every trusted address, to the first that is not
// trusted: hops further left were written by the client and prove nothing.
//
// The rules, each chosen so that a client cannot pick the address it is
// counted by:
//
//   - A peer that is not trusted is the client, whatever it sends.
//   - Several header lines of one name are one list, in order (RFC 9110).
//   - A hop that is not an address (garbage, "unknown", an obfuscated
//     "_name", a Forwarded element without for=) met before an untrusted
//     address makes the peer the client: a trusted proxy wrote it, and it
//     does not say who the client is.
//   - When every hop is trusted the leftmost is the client (a client inside
//     the trusted ranges, straight to the first balancer).
//   - When both headers are present they must name the same client, else
//     the peer is the client: a balancer maintains one of them and passes
//     the other through from the client, and nothing tells which.
//
// The result is never empty: a RemoteAddr that is not host:port is used as
// it is, an empty one as "unknown".
package clientaddr
