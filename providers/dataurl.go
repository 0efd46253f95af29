package providers

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
)

// DataKind is what a URL string carries, as far as content rules go.
type DataKind uint8

// The kinds of URL.
const (
	// DataNone: not a data: URL (an http(s) URL or anything else the
	// provider fetches): the URL itself is text to check (FormURL).
	DataNone DataKind = iota
	// DataImage: a base64 image of a type the providers accept. The
	// payload is pixels, not text the rules can read; it is forwarded.
	DataImage
	// DataPDF: a base64 PDF document: binary, forwarded unread.
	DataPDF
	// DataText: a base64 text document: decoded and checked (FormData).
	DataText
)

// maxDataHeader is the longest data: URL header (up to the comma) read:
// real ones ("data:text/plain;charset=utf-8;base64,") are far shorter.
const maxDataHeader = 120

// mediaTypes are the media types a base64 data: URL may carry when content
// rules are on. Any other type could smuggle text past the rules (its
// subtype is free text, and an unknown document format cannot be read), so
// it is refused.
var mediaTypes = map[string]DataKind{
	"image/png": DataImage, "image/jpeg": DataImage, "image/jpg": DataImage,
	"image/gif": DataImage, "image/webp": DataImage,
	"application/pdf": DataPDF,
	"text/plain":      DataText, "text/markdown": DataText, "text/csv": DataText, "text/html": DataText,
	"text/xml": DataText, "application/json": DataText, "application/xml": DataText,
}

// DataURL classifies the URL string literal v of body: a data: URL is
// recognized after JSON escapes are decoded and leading spaces dropped
// (a provider may accept either), case-insensitively. A data: URL must be
// "data:<type>[;charset=utf-8];base64,<payload>" with a type of
// mediaTypes; anything else is ErrUncheckable. It does not allocate
// unless it fails.
func DataURL(body []byte, v Value) (DataKind, error) {
	if v.Kind != KindString || v.End-v.Start < 2 {
		return DataNone, ErrType
	}
	var buf [maxDataHeader + 16]byte
	pre, _ := unescapeChunk(buf[:0], body[v.Start+1:v.End-1])
	media, base64ed, isData, ok := dataHeader(pre)
	if !isData {
		return DataNone, nil
	}
	if !ok || !base64ed {
		return DataNone, fmt.Errorf("%w: a data: URL must be base64 with a plain media type", ErrUncheckable)
	}
	k, known := mediaTypes[string(lowerASCII(media))]
	if !known {
		return DataNone, fmt.Errorf("%w: data: URLs of type %.40q are not read by the content rules", ErrUncheckable, string(media))
	}
	return k, nil
}

// dataHeader reads the header of a decoded data: URL (text may be only its
// start): the media type, whether it is base64, whether text is a data: URL
// at all, and ok when the header is well formed and complete.
func dataHeader(text []byte) (media []byte, base64ed, isData, ok bool) {
	text = trimLeft(text)
	if len(text) < 5 || !bytes.EqualFold(text[:5], []byte("data:")) {
		return nil, false, false, false
	}
	head, _, found := bytes.Cut(text[5:], []byte(","))
	if !found || len(head) > maxDataHeader {
		return nil, false, true, false
	}
	media, params, _ := bytes.Cut(head, []byte(";"))
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		switch {
		case bytes.EqualFold(p, []byte("base64")) && len(params) == 0:
			base64ed = true
		case bytes.EqualFold(p, []byte("charset=utf-8")), bytes.EqualFold(p, []byte("charset=us-ascii")):
		default:
			return media, false, true, false
		}
	}
	return media, base64ed, true, true
}

// trimLeft drops leading spaces and control characters.
func trimLeft(b []byte) []byte {
	for len(b) > 0 && b[0] <= ' ' {
		b = b[1:]
	}
	return b
}

// lowerASCII lowers b in place (it is a scratch copy) and returns it.
func lowerASCII(b []byte) []byte {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// appendDataText appends the document a base64 data: URL literal (inner
// bytes, escapes undecoded) carries.
func appendDataText(dst, inner []byte) ([]byte, error) {
	o := len(dst)
	dst, err := appendUnescaped(dst, inner)
	if err != nil {
		return dst[:o], err
	}
	text := trimLeft(dst[o:])
	_, b64, isData, ok := dataHeader(text)
	if !isData || !ok || !b64 {
		return dst[:o], fmt.Errorf("%w: not a base64 data: URL", ErrUncheckable)
	}
	payload := text[bytes.IndexByte(text, ',')+1:]
	enc := base64.StdEncoding
	if len(bytes.TrimRight(payload, "\r\n"))%4 != 0 {
		enc = base64.RawStdEncoding
	}
	end := len(dst)
	dst = slices.Grow(dst, enc.DecodedLen(len(payload)))
	// dst may have moved: find the payload again.
	payload = dst[end-len(payload) : end]
	n, err := enc.Decode(dst[end:end+enc.DecodedLen(len(payload))], payload)
	if err != nil {
		return dst[:o], fmt.Errorf("%w: a data: URL's base64 payload is malformed", ErrUncheckable)
	}
	copy(dst[o:], dst[end:end+n])
	return dst[:o+n], nil
}

// appendDataURL writes text as the JSON literal of a base64 data: URL
// under the header of the original literal (inner, undecoded).
func appendDataURL(dst, inner, text []byte) ([]byte, error) {
	var buf [maxDataHeader + 16]byte
	pre, _ := unescapeChunk(buf[:0], inner)
	pre = trimLeft(pre)
	_, b64, isData, ok := dataHeader(pre)
	if !isData || !ok || !b64 {
		return dst, ErrBadEdit
	}
	dst = append(dst, '"')
	dst = appendEscaped(dst, pre[:bytes.IndexByte(pre, ',')+1]) // the header as sent
	dst = base64.StdEncoding.AppendEncode(dst, text)
	return append(dst, '"'), nil
}

// appendName writes a masked identifier: bytes outside [A-Za-z0-9_.-]
// become '_'.
func appendName(dst, text []byte) []byte {
	dst = append(dst, '"')
	for _, c := range text {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '_')
		}
	}
	return append(dst, '"')
}

// appendURL writes a masked URL: bytes a URL cannot carry literally are
// percent-encoded (the mask's brackets among them), so the result is
// still a URL and needs no JSON escape.
func appendURL(dst, text []byte) []byte {
	dst = append(dst, '"')
	for _, c := range text {
		if urlByte(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
	}
	return append(dst, '"')
}

const upperHex = "0123456789ABCDEF"

// urlByte reports an unreserved or reserved URL character other than the
// brackets (only valid around an IPv6 host) and '%': the rules read a URL
// percent-decoded (DecodeText), so a '%' in the text is a literal one.
func urlByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', ':', '/', '?', '#', '@', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}
