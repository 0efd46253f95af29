package console

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// inProcess is an http.RoundTripper that serves requests with the central
// API's own handler: the console reuses the API's checks, error codes and
// pushes without a socket or a second copy of the logic.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}}
	r := req.Clone(req.Context())
	// The API's failed-authentication throttle counts the console's own
	// calls under a name no network client can be counted by (a peer or a
	// forwarded client is always an IP address): were it 127.0.0.1, a
	// client behind a reverse proxy on the same host, or one a trusted
	// proxy's disagreeing headers leave counted as the proxy, could empty
	// that bucket with wrong keys and lock every operator's console out of
	// the API.
	r.RemoteAddr = "console:0"
	// The console's own calls forward for nobody.
	r.Header.Del("X-Forwarded-For")
	r.Header.Del("Forwarded")
	r.RequestURI = req.URL.RequestURI()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	t.h.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
