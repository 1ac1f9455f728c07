package headerpolicy

import (
	"io"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// responseFilter removes hidden headers from the response and stamps the
// request ID on it, just before the header is written.
type responseFilter struct {
	caddyhttp.ResponseWriterWrapper // by value: one allocation per response, not two
	hide                            []string
	idField, id                     string
	wroteHeader                     bool
}

// WriteHeader filters the header, then writes it.
func (rf *responseFilter) WriteHeader(status int) {
	if rf.wroteHeader {
		rf.ResponseWriterWrapper.WriteHeader(status)
		return
	}
	hdr := rf.ResponseWriterWrapper.Header()
	for _, name := range rf.hide {
		delete(hdr, name)
	}
	if rf.id != "" {
		hdr[rf.idField] = []string{rf.id}
	}
	// 1xx responses are followed by the final one, which is filtered again.
	if status >= 200 || status == http.StatusSwitchingProtocols {
		rf.wroteHeader = true
	}
	rf.ResponseWriterWrapper.WriteHeader(status)
}

// Write makes sure the header is filtered even without an explicit WriteHeader.
func (rf *responseFilter) Write(b []byte) (int, error) {
	if !rf.wroteHeader {
		rf.WriteHeader(http.StatusOK)
	}
	return rf.ResponseWriterWrapper.Write(b)
}

// ReadFrom makes sure the header is filtered before a body copied with
// io.ReaderFrom.
func (rf *responseFilter) ReadFrom(r io.Reader) (int64, error) {
	if !rf.wroteHeader {
		rf.WriteHeader(http.StatusOK)
	}
	return rf.ResponseWriterWrapper.ReadFrom(r)
}

// FlushError makes sure the header is filtered before a flush, which would
// otherwise write it unfiltered: http.ResponseController would reach the
// underlying writer through Unwrap.
func (rf *responseFilter) FlushError() error {
	if !rf.wroteHeader {
		rf.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(rf.ResponseWriterWrapper.ResponseWriter).Flush()
}
