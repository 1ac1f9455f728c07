package proxycache

import (
	"bytes"
	"net/http"
	"strconv"
	"time"
)

// Writer modes, decided when the origin's status line arrives.
const (
	modePass    = iota // to the client only
	modeTee            // to the client and into the entry being stored
	modeCapture        // a 304 to our revalidation: kept, not sent
	modeDiscard        // an error answer replaced by a stale entry: dropped
)

// fetchWriter is the ResponseWriter the origin's answer goes through on a
// miss. It streams the response to the client while copying the body into
// the entry being stored, up to the object size limit; past that it stops
// buffering and only streams. It holds its own header map, so the origin's
// header can be stored as received and withheld from the client when a
// stale entry is served instead.
type fetchWriter struct {
	c    *call
	rw   http.ResponseWriter // the client (or a discarding writer)
	hdr  http.Header
	mode int

	wroteHeader bool
	status      int
	respTime    time.Time
	clientBody  bool // send the body to the client
	entry       *Entry
	buf         bytes.Buffer
	limit       int64
	overflow    bool
	clientErr   error

	// With a Range answered on a miss: the body bytes to drop before the
	// range, and the range's bytes still to send.
	ranged       bool
	skip, remain int64
}

func (f *fetchWriter) Header() http.Header { return f.hdr }

func (f *fetchWriter) WriteHeader(status int) {
	if f.wroteHeader {
		return
	}
	if status < 200 {
		// Informational responses pass straight through.
		copyHeader(f.rw.Header(), f.hdr)
		f.rw.WriteHeader(status)
		return
	}
	f.wroteHeader = true
	f.status = status
	f.respTime = time.Now()
	c := f.c

	if c.revalidating && status == http.StatusNotModified {
		f.mode = modeCapture
		return
	}
	if c.stale != nil && c.h.staleOnStatus(c.stale, status, f.respTime) {
		f.mode = modeDiscard
		return
	}

	f.mode = modePass
	if c.storeOK {
		c.notStored = f.startStoring(status)
	}
	if c.background {
		return
	}
	f.rw.WriteHeader(f.clientResponse(status))
}

// startStoring decides whether the response is stored while it streams to
// the client (modeTee) and returns why not, or "".
func (f *fetchWriter) startStoring(status int) string {
	c := f.c
	e, reason := c.h.evaluate(c.r, status, f.hdr, c.reqTime, f.respTime)
	if e == nil {
		return reason
	}
	cl, err := strconv.ParseInt(f.hdr.Get("Content-Length"), 10, 64)
	switch {
	case err == nil && cl > f.limit:
		return "too large"
	case f.hdr.Get("Trailer") != "":
		return "trailers"
	}
	e.Key, e.URL = c.key, c.url
	f.entry = e
	f.mode = modeTee
	if cl > 0 {
		f.buf.Grow(int(cl))
	}
	return ""
}

// clientResponse writes the origin's header to the client's response with
// the cache's status fields, and returns the status code to send: the
// origin's, a 304 for the client's own conditionals, or the answer to a
// Range kept from the origin.
func (f *fetchWriter) clientResponse(status int) int {
	c := f.c
	out := f.rw.Header()
	copyHeader(out, f.hdr)
	// nginx never passes X-Accel-Expires on (proxy_hide_header's default).
	delete(out, accelExpires)
	c.h.hideTargeted(out)
	c.out.stored = f.mode == modeTee
	c.out.fwdStatus = status
	c.h.writeStatus(out, c.out, c.key)

	f.clientBody = c.r.Method != http.MethodHead
	// The client's conditionals were not sent on (originRequest), so they
	// are answered here whether or not the response is stored, as its Range is.
	if c.storeOK && status == http.StatusOK && notModifiedFor(c.r, f.hdr) {
		f.clientBody = false
		strip304(out)
		return http.StatusNotModified
	}
	if status == http.StatusOK && c.storeOK {
		// The Range was kept from the origin (originRequest): answer it here.
		if rv := c.r.Header["Range"]; len(rv) > 0 {
			return f.rangeOnMiss(out, rv[0])
		}
	}
	return status
}

func (f *fetchWriter) Write(p []byte) (int, error) {
	if !f.wroteHeader {
		f.WriteHeader(http.StatusOK)
	}
	switch f.mode {
	case modeCapture, modeDiscard:
		return len(p), nil
	case modeTee:
		if int64(f.buf.Len()+len(p)) > f.limit {
			// Too big to store: stop buffering and stream on.
			f.overflow = true
			f.mode = modePass
			f.buf = bytes.Buffer{}
			f.c.notStored = "too large"
			return f.clientWrite(p)
		}
		f.buf.Write(p)
		if f.clientErr != nil || !f.clientBody {
			return len(p), nil
		}
		if _, err := f.toClient(p); err != nil {
			// Keep filling the cache even if the client went away.
			f.clientErr = err
		}
		return len(p), nil
	default:
		return f.clientWrite(p)
	}
}

func (f *fetchWriter) clientWrite(p []byte) (int, error) {
	if !f.clientBody {
		return len(p), nil
	}
	return f.toClient(p)
}

// toClient writes p, the next bytes of the origin's body, to the client:
// all of it, or with a Range answered on a miss, the part within the range.
func (f *fetchWriter) toClient(p []byte) (int, error) {
	if !f.ranged {
		return f.rw.Write(p)
	}
	n := len(p)
	if f.skip > 0 {
		if int64(len(p)) <= f.skip {
			f.skip -= int64(len(p))
			return n, nil
		}
		p = p[f.skip:]
		f.skip = 0
	}
	if int64(len(p)) > f.remain {
		p = p[:f.remain]
	}
	f.remain -= int64(len(p))
	if len(p) > 0 {
		if _, err := f.rw.Write(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// rangeOnMiss answers the client's Range (spec) from a whole 200 on its
// way from the origin, as nginx does on a cache miss: one range becomes a
// 206 cut from the stream, an unsatisfiable one a 416, and several ranges
// (or an unknown length, or a failed If-Range) the whole 200. out is the
// client's header; it returns the status to send.
func (f *fetchWriter) rangeOnMiss(out http.Header, spec string) int {
	if !ifRangeHolds(f.c.r, f.hdr) {
		return http.StatusOK
	}
	size, err := strconv.ParseInt(f.hdr.Get("Content-Length"), 10, 64)
	if err != nil || size < 0 {
		return http.StatusOK
	}
	ranges, verdict := parseRange(spec, size)
	switch {
	case verdict == rangeUnsatisfiable:
		setUnsatisfiable(out, size)
		f.clientBody = false
		return http.StatusRequestedRangeNotSatisfiable
	case verdict == rangePartial && len(ranges) == 1:
		rg := ranges[0]
		out["Content-Range"] = []string{contentRange(rg, size)}
		out["Content-Length"] = []string{strconv.FormatInt(rg.end-rg.start, 10)}
		f.ranged, f.skip, f.remain = true, rg.start, rg.end-rg.start
		return http.StatusPartialContent
	}
	return http.StatusOK
}

// FlushError flushes what the client has been sent so far.
func (f *fetchWriter) FlushError() error {
	if !f.wroteHeader || f.mode == modeCapture || f.mode == modeDiscard || f.clientErr != nil {
		return nil
	}
	return http.NewResponseController(f.rw).Flush()
}

// Flush implements http.Flusher.
func (f *fetchWriter) Flush() { _ = f.FlushError() }

// Unwrap lets http.ResponseController reach the client's writer.
func (f *fetchWriter) Unwrap() http.ResponseWriter { return f.rw }

// finishTrailers copies trailers the origin set after the body.
func (f *fetchWriter) finishTrailers() {
	if f.c.background || !f.wroteHeader || f.mode == modeCapture || f.mode == modeDiscard {
		return
	}
	out := f.rw.Header()
	for k, v := range f.hdr {
		if _, ok := out[k]; !ok && k != accelExpires && !f.c.h.hidesTargeted(k) {
			out[k] = v
		}
	}
}

// copyHeader sets every field of src on dst, replacing what dst had.
func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// discardWriter is the client of a background update.
type discardWriter struct{ hdr http.Header }

func (d *discardWriter) Header() http.Header         { return d.hdr }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
