// Package test holds checks that span the repository: the dependency rules
// between top-level packages, and end-to-end tests that run the real binary
// (build tag-free; they skip when TOKENOMICS_BIN is unset and no binary can be
// built).
package test
