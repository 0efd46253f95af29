package fakeupstream

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"math"
	"strconv"
)

// Embedding returns the unit vector the fake gives for an input text (or, for
// a token-array input, its compact JSON such as "[1,2,3]"): dims values
// derived from an FNV-1a hash of the input, so equal inputs embed equally.
func Embedding(input string, dims int) []float32 {
	v := make([]float32, dims)
	fillEmbedding(v, input)
	return v
}

func fillEmbedding(v []float32, input string) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(input))
	state := h.Sum64()
	var norm float64
	for i := range v {
		// splitmix64: a tiny, well-mixed generator seeded by the hash.
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		f := float64(z>>11)/float64(1<<53)*2 - 1
		v[i] = float32(f)
		norm += f * f
	}
	if norm == 0 {
		return
	}
	scale := 1 / math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) * scale)
	}
}

// embeddings answers POST /v1/embeddings.
func (x *exchange) embeddings() {
	dims := x.c.dims
	if dims == 0 {
		dims = x.s.opts.EmbeddingDims
	}
	vec := make([]float32, dims)
	var raw []byte
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"object":"list","data":[`...)
	for i, in := range x.c.embeds {
		fillEmbedding(vec, in.key)
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = appendInt(b, i)
		b = append(b, `,"embedding":`...)
		if x.c.base64 {
			raw = raw[:0]
			for _, f := range vec {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, raw)
			b = append(b, '"')
		} else {
			b = append(b, '[')
			for j, f := range vec {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendFloat(b, float64(f), 'g', -1, 32)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = appendStr(b, x.c.model)
	if !x.p.dir.nousage {
		b = append(b, `,"usage":{"prompt_tokens":`...)
		b = appendInt(b, x.p.PromptTokens)
		b = appendKV(b, "total_tokens", x.p.PromptTokens)
		b = append(b, '}')
	}
	b = append(b, '}')
	*bp = b
	x.writeJSON(b)
}
