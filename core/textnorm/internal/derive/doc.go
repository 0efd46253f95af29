// Package derive computes the homoglyph table of textnorm from Unicode's
// confusables data, for the generator and for the test that keeps the
// generated table in step with it. It is not linked into the binary.
package derive
