package sdk

import "github.com/tokenomics-dev/tokenomics/sdk/abi"

// decodeInput fills req.Texts from the Input layout, reusing its slice. The
// texts alias in. ok is false on a malformed input.
func decodeInput(in []byte, req *Request) bool {
	req.Texts = req.Texts[:0]
	if len(in) < abi.InputHeaderSize {
		return false
	}
	n := int(abi.U32(in, 0))
	if n < 0 || n > (len(in)-abi.InputHeaderSize)/abi.InputEntrySize {
		return false
	}
	for i := 0; i < n; i++ {
		e := abi.InputHeaderSize + i*abi.InputEntrySize
		off, l := int(abi.U32(in, e)), int(abi.U32(in, e+4))
		if off < 0 || l < 0 || off > len(in) || l > len(in)-off {
			return false
		}
		req.Texts = append(req.Texts, Text{
			Data: in[off : off+l : off+l],
			Role: abi.RoleName(in[e+8]),
			Kind: abi.KindName(in[e+9]),
		})
	}
	return true
}

// encodeConfigResult writes the Configure result layout.
func encodeConfigResult(dst []byte, c *Config, err error) []byte {
	dst = dst[:0]
	if err != nil {
		dst = abi.AppendU32(dst, abi.ConfigError)
		return append(dst, err.Error()...)
	}
	dst = abi.AppendU32(dst, abi.ConfigOK)
	dst = abi.AppendU32(dst, uint32(max(c.maxMatch, 0)))
	return abi.EncodeList(dst, c.detectors)
}
