// Package cli holds the cobra commands of the tokenomics binary, one file per
// command. It is the only package that wires the others together: config,
// store, policy, proxy, central. Commands return errors; Main turns them into
// an exit code and a single line on stderr.
package cli
