// Package textnorm builds the form of a text that content detectors read,
// and maps what they find back to the text's own bytes.
//
// Detectors match patterns (digits of an SSN, the words of an injection)
// that a client can disguise without changing what a model reads: a
// zero-width space inside a number, fullwidth digits, Cyrillic letters
// that look Latin, a JSON escape inside tool arguments. The detection view
// undoes these, in order:
//
//  1. in JSON texts (tool arguments), backslash escapes are decoded, so
//     "123\u002d45" reads as "123-45";
//  2. format characters (Unicode Cf: zero-width space and joiners, BOM,
//     soft hyphen, bidi controls, tags), other default-ignorable code
//     points, variation selectors and control characters other than tab,
//     line feed and carriage return are dropped;
//  3. each remaining character is put in NFKC (golang.org/x/text/unicode/norm),
//     which folds fullwidth and mathematical letters and digits, ligatures,
//     superscripts and compatibility spaces. Normalization is per character:
//     a base letter followed by a combining mark is not composed, since the
//     patterns detectors look for are ASCII and composing would only merge
//     spans;
//  4. runes that Unicode's confusables data (TR39) maps to a single
//     printable ASCII character are replaced by it: Cyrillic and Greek
//     letters that look Latin, Unicode hyphens and minus signs, and so on.
//
// Step 4 needs data that golang.org/x/text does not carry: x/text has no
// confusables table (secure/precis checks identifiers, it does not fold
// homoglyphs). The table here is generated from Unicode's confusables.txt
// as packaged by github.com/mtibben/confusables (gen_confusables.go), not
// written by hand, restricted to runes NFKC leaves alone and whose
// skeleton is one ASCII character; TestConfusablesTable regenerates it and
// fails if the two differ. The library itself is not linked into the
// binary.
//
// Every byte of the view remembers the span of source bytes it came from
// (the whole escape, the whole character), kept as runs: a stretch copied
// verbatim is one run, a replaced character another. A detection span maps
// back to the source bytes that produced it, dropped characters inside it
// included: a mask cuts the original exactly. Texts that are plain ASCII
// (without backslashes, in JSON texts) are their own view and cost one pass
// over their bytes, eight at a time.
//
// What each rune becomes is decided once per process, when first met, and
// cached (a BMP table and a map above it), so a warm Normalizer neither
// allocates nor consults the Unicode tables on the hot path.
package textnorm
