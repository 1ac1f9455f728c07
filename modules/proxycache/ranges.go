package proxycache

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// byteRange is a satisfiable byte range of a representation, [start, end).
type byteRange struct{ start, end int64 }

// rangeVerdict is what a Range field asks of a complete representation.
type rangeVerdict int

const (
	rangeWhole         rangeVerdict = iota // send the whole 200
	rangePartial                           // send 206 with the ranges
	rangeUnsatisfiable                     // send 416
)

// parseRange evaluates a Range field value against a representation of
// size bytes the way nginx's range filter does (measured on nginx 1.22):
//
//   - a unit other than "bytes" is ignored (the whole 200);
//   - a malformed byte range ("abc", "1-2-3", "-") makes the request
//     unsatisfiable (416), while a well-formed range that is empty or
//     starts past the end ("5-1", "100-" of 26 bytes, "-0") is skipped, and
//     416 is sent when none is left;
//   - an end past the representation is cut to its last byte, and a suffix
//     longer than it means all of it;
//   - ranges keep their order and may overlap, but when together they ask
//     for more bytes than the representation has, the whole 200 is sent.
func parseRange(spec string, size int64) ([]byteRange, rangeVerdict) {
	const unit = "bytes="
	if len(spec) < len(unit) || !strings.EqualFold(spec[:len(unit)], unit) {
		return nil, rangeWhole
	}
	p := spec[len(unit):]
	var ranges []byteRange
	var total int64
	for {
		start, end, rest, ok := nextByteRange(p, size)
		if !ok {
			return nil, rangeUnsatisfiable
		}
		if start < end {
			ranges = append(ranges, byteRange{start, end})
			total += end - start
		} else if start == 0 {
			return nil, rangeUnsatisfiable
		}
		if rest == "" {
			break
		}
		p = rest[1:] // the comma
	}
	if len(ranges) == 0 {
		return nil, rangeUnsatisfiable
	}
	if total > size {
		return nil, rangeWhole
	}
	return ranges, rangePartial
}

// nextByteRange reads the range at the start of p ("a-b", "a-" or "-n")
// as [start, end) of a representation of size bytes: an end past it is cut
// to its last byte, a suffix longer than it is all of it. rest is "" or
// starts at the comma after the range; ok is false when the range is
// malformed.
func nextByteRange(p string, size int64) (start, end int64, rest string, ok bool) {
	p = strings.TrimLeft(p, " ")
	if p, ok = strings.CutPrefix(p, "-"); ok {
		var n int64
		if n, rest, ok = rangeEnd(p); !ok {
			return 0, 0, "", false
		}
		if n < size {
			start = size - n
		}
		return start, size, rest, true
	}
	if start, p, ok = leadingInt(p); !ok {
		return 0, 0, "", false
	}
	if p, ok = strings.CutPrefix(strings.TrimLeft(p, " "), "-"); !ok {
		return 0, 0, "", false
	}
	if p = strings.TrimLeft(p, " "); p == "" || p[0] == ',' {
		return start, size, p, true // "a-": to the end
	}
	last, rest, ok := rangeEnd(p)
	if !ok {
		return 0, 0, "", false
	}
	if last >= size {
		return start, size, rest, true
	}
	return start, last + 1, rest, true
}

// rangeEnd reads the number that ends a range: only spaces may follow it
// before the next comma. rest is "" or starts at that comma.
func rangeEnd(p string) (n int64, rest string, ok bool) {
	if n, p, ok = leadingInt(p); !ok {
		return 0, "", false
	}
	if p = strings.TrimLeft(p, " "); p != "" && p[0] != ',' {
		return 0, "", false
	}
	return n, p, true
}

// leadingInt reads the decimal digits at the start of s. It fails when
// there are none or they overflow.
func leadingInt(s string) (int64, string, bool) {
	i := 0
	var n int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if n > (1<<63-1-9)/10 {
			return 0, s, false
		}
		n = n*10 + int64(s[i]-'0')
		i++
	}
	return n, s[i:], i > 0
}

// ifRangeHolds evaluates the request's If-Range against a stored (or
// storable) response header (RFC 9110 §13.1.5): an entity tag must match
// the response's ETag by the strong comparison, so a weak tag never does;
// a date must equal its Last-Modified. Without If-Range it holds.
func ifRangeHolds(r *http.Request, hdr http.Header) bool {
	ir := field(r.Header, "If-Range")
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, `"`) || strings.HasPrefix(ir, "W/") {
		etag := field(hdr, "Etag")
		return etag != "" && !strings.HasPrefix(ir, "W/") && !strings.HasPrefix(etag, "W/") && ir == etag
	}
	t, ok := parseHTTPDate(ir)
	if !ok {
		return false
	}
	lm, ok := parseHTTPDate(field(hdr, "Last-Modified"))
	return ok && lm.Equal(t)
}

// contentRange renders a Content-Range value for r of size bytes.
func contentRange(r byteRange, size int64) string {
	b := make([]byte, 0, 48)
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, r.start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.end-1, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, size, 10)
	return string(b)
}

// setUnsatisfiable turns hdr into a 416's: Content-Range "bytes */size" and
// no content.
func setUnsatisfiable(hdr http.Header, size int64) {
	for _, f := range []string{"Content-Type", "Content-Encoding", "Accept-Ranges"} {
		delete(hdr, f)
	}
	hdr["Content-Range"] = []string{"bytes */" + strconv.FormatInt(size, 10)}
	hdr["Content-Length"] = []string{"0"}
}

// multipartRanges is a multipart/byteranges body (RFC 9110 §14.6) laid out
// as nginx lays it out: each part's header, then its slice of the body.
type multipartRanges struct {
	contentType string   // of the whole response
	heads       []string // before each part
	tail        string   // after the last part
	length      int64
}

// newMultipartRanges lays out the parts of ranges of a representation of
// size bytes and media type ctype (no Content-Type line in the parts when
// it is empty).
func newMultipartRanges(ranges []byteRange, size int64, ctype string) *multipartRanges {
	boundary := strconv.FormatUint(rand.Uint64(), 16)
	m := &multipartRanges{contentType: "multipart/byteranges; boundary=" + boundary,
		tail: "\r\n--" + boundary + "--\r\n"}
	for _, r := range ranges {
		head := "\r\n--" + boundary + "\r\n"
		if ctype != "" {
			head += "Content-Type: " + ctype + "\r\n"
		}
		head += "Content-Range: " + contentRange(r, size) + "\r\n\r\n"
		m.heads = append(m.heads, head)
		m.length += int64(len(head)) + r.end - r.start
	}
	m.length += int64(len(m.tail))
	return m
}

// serveRange answers a Range request from the stored 200 e, whose fields
// are already in hdr. It reports false, having written nothing, when the
// whole response is to be sent instead (If-Range failed, a unit other than
// bytes, or ranges asking for more than the whole). The body is written
// from the stored bytes without copying them.
func serveRange(w http.ResponseWriter, r *http.Request, e *Entry, hdr http.Header, spec string) bool {
	if !ifRangeHolds(r, e.Header) {
		return false
	}
	size := int64(len(e.Body))
	ranges, verdict := parseRange(spec, size)
	switch verdict {
	case rangeWhole:
		return false
	case rangeUnsatisfiable:
		setUnsatisfiable(hdr, size)
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return true
	}
	if len(ranges) == 1 {
		rg := ranges[0]
		hdr["Content-Range"] = []string{contentRange(rg, size)}
		hdr["Content-Length"] = []string{strconv.FormatInt(rg.end-rg.start, 10)}
		w.WriteHeader(http.StatusPartialContent)
		if r.Method != http.MethodHead {
			_, _ = w.Write(e.Body[rg.start:rg.end])
		}
		return true
	}
	m := newMultipartRanges(ranges, size, field(e.Header, "Content-Type"))
	hdr["Content-Type"] = []string{m.contentType}
	hdr["Content-Length"] = []string{strconv.FormatInt(m.length, 10)}
	w.WriteHeader(http.StatusPartialContent)
	if r.Method == http.MethodHead {
		return true
	}
	for i, rg := range ranges {
		if _, err := w.Write([]byte(m.heads[i])); err != nil {
			return true
		}
		if _, err := w.Write(e.Body[rg.start:rg.end]); err != nil {
			return true
		}
	}
	_, _ = w.Write([]byte(m.tail))
	return true
}
