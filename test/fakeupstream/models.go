package fakeupstream

import (
	"net/http"
	"strconv"
	"strings"
)

// modelCreated is a fixed creation time so model listings are byte-stable.
const (
	modelCreated     = 1700000000
	modelCreatedDate = "2023-11-14T22:13:20Z"
)

func appendOpenAIModel(b []byte, id string) []byte {
	b = append(b, `{"id":`...)
	b = appendStr(b, id)
	b = append(b, `,"object":"model","created":`+strconv.Itoa(modelCreated)+`,"owned_by":"openai"}`...)
	return b
}

func appendAnthropicModel(b []byte, id string) []byte {
	b = append(b, `{"type":"model","id":`...)
	b = appendStr(b, id)
	b = append(b, `,"display_name":`...)
	b = appendStr(b, displayName(id))
	return append(b, `,"created_at":"`+modelCreatedDate+`"}`...)
}

// displayName turns "claude-sonnet-4-5" into "Claude Sonnet 4.5".
func displayName(id string) string {
	var words []string
	var version []string
	for w := range strings.SplitSeq(id, "-") {
		if w == "" {
			continue
		}
		if w[0] >= '0' && w[0] <= '9' {
			version = append(version, w)
			continue
		}
		words = append(words, strings.ToUpper(w[:1])+w[1:])
	}
	if len(version) > 0 {
		words = append(words, strings.Join(version, "."))
	}
	return strings.Join(words, " ")
}

func openAIModelList(ids []string) []byte {
	b := []byte(`{"object":"list","data":[`)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOpenAIModel(b, id)
	}
	return append(b, `]}`...)
}

func anthropicModelList(ids []string) []byte {
	b := []byte(`{"data":[`)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendAnthropicModel(b, id)
	}
	b = append(b, `],"has_more":false,"first_id":`...)
	if len(ids) > 0 {
		b = appendStr(b, ids[0])
		b = append(b, `,"last_id":`...)
		b = appendStr(b, ids[len(ids)-1])
	} else {
		b = append(b, `null,"last_id":null`...)
	}
	return append(b, '}')
}

// serveModels answers GET /v1/models and GET /v1/models/{id} in the caller's
// dialect. It does not take scripted responses.
func (s *Server) serveModels(w http.ResponseWriter, r *http.Request, f format) {
	if status, msg := s.authorize(r, f); status != 0 {
		s.writeError(w, f, status, msg, "", nil)
		return
	}
	body := s.models[f]
	if id, one := strings.CutPrefix(r.URL.Path, "/v1/models/"); one {
		list := s.opts.OpenAIModels
		if f == fmtAnthropic {
			list = s.opts.AnthropicModels
		}
		found := false
		for _, m := range list {
			found = found || m == id
		}
		if !found {
			msg := "The model '" + id + "' does not exist"
			if f == fmtAnthropic {
				msg = "model: " + id
			}
			s.writeError(w, f, http.StatusNotFound, msg, "", nil)
			return
		}
		if f == fmtAnthropic {
			body = appendAnthropicModel(nil, id)
		} else {
			body = appendOpenAIModel(nil, id)
		}
	}
	h := w.Header()
	h["Content-Type"] = ctJSON
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	_, _ = w.Write(body)
}
