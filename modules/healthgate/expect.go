package healthgate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// statusRange is an inclusive range of HTTP status codes.
type statusRange struct{ lo, hi int }

// statusSpec is a compiled expect_status list: a response passes when its
// status falls in any of the ranges.
type statusSpec []statusRange

// parseStatusSpec compiles expect_status tokens. Each token is a code
// ("200"), a class ("2xx", case-insensitive) or an inclusive range
// ("200-399"). Codes must lie in 100..599.
func parseStatusSpec(tokens []string) (statusSpec, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("expect_status: needs at least one code, class (2xx) or range (200-399)")
	}
	spec := make(statusSpec, 0, len(tokens))
	for _, t := range tokens {
		r, err := parseStatusToken(t)
		if err != nil {
			return nil, fmt.Errorf("expect_status: %v", err)
		}
		spec = append(spec, r)
	}
	return spec, nil
}

func parseStatusToken(t string) (statusRange, error) {
	if len(t) == 3 && (t[1] == 'x' || t[1] == 'X') && (t[2] == 'x' || t[2] == 'X') {
		c := t[0]
		if c < '1' || c > '5' {
			return statusRange{}, fmt.Errorf("%q: status class must be 1xx to 5xx", t)
		}
		base := int(c-'0') * 100
		return statusRange{base, base + 99}, nil
	}
	if lo, hi, ok := strings.Cut(t, "-"); ok {
		l, err := parseCode(lo)
		if err != nil {
			return statusRange{}, fmt.Errorf("%q: %v", t, err)
		}
		h, err := parseCode(hi)
		if err != nil {
			return statusRange{}, fmt.Errorf("%q: %v", t, err)
		}
		if h < l {
			return statusRange{}, fmt.Errorf("%q: range end is below its start", t)
		}
		return statusRange{l, h}, nil
	}
	c, err := parseCode(t)
	if err != nil {
		return statusRange{}, fmt.Errorf("%q: %v", t, err)
	}
	return statusRange{c, c}, nil
}

func parseCode(s string) (int, error) {
	if len(s) != 3 {
		return 0, fmt.Errorf("want a 3-digit status code, 1xx..5xx class or range")
	}
	c, err := strconv.Atoi(s)
	if err != nil || c < 100 || c > 599 {
		return 0, fmt.Errorf("want a status code between 100 and 599")
	}
	return c, nil
}

// match reports whether code is expected. An empty spec means 2xx.
func (s statusSpec) match(code int) bool {
	if len(s) == 0 {
		return code >= 200 && code <= 299
	}
	for _, r := range s {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// jsonPath is a compiled expect_json field path: object keys and array
// indexes separated by dots ("status", "checks.db.state", "items.0.ok").
type jsonPath []string

// parseJSONPath compiles a dotted field path. Every segment must be
// non-empty and free of whitespace; a leading "$." (JSONPath style) is
// allowed and ignored.
func parseJSONPath(p string) (jsonPath, error) {
	p = strings.TrimPrefix(p, "$.")
	if p == "" {
		return nil, fmt.Errorf("expect_json: empty field path")
	}
	segs := strings.Split(p, ".")
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("expect_json: field path %q has an empty segment (want names separated by single dots, e.g. status or checks.db)", p)
		}
		if strings.ContainsAny(s, " \t\r\n[]\"'$*") {
			return nil, fmt.Errorf("expect_json: field path %q: segment %q may not contain spaces, brackets, quotes, $ or *", p, s)
		}
	}
	return segs, nil
}

// String is the dotted form.
func (p jsonPath) String() string { return strings.Join(p, ".") }

// lookup finds the value at p in the decoded JSON document v.
func (p jsonPath) lookup(v any) (any, bool) {
	for _, seg := range p {
		switch t := v.(type) {
		case map[string]any:
			next, ok := t[seg]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// jsonText renders a decoded JSON value the way expect_json compares it:
// strings as themselves, anything else as compact JSON (true, 3, null).
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// checkJSON verifies that body is a JSON document whose field at p equals
// want, and says why not otherwise.
func checkJSON(body []byte, p jsonPath, want string) error {
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("json mismatch: body is not JSON (%v)", err)
	}
	got, ok := p.lookup(doc)
	if !ok {
		return fmt.Errorf("json mismatch: field %s missing", p)
	}
	if g := jsonText(got); g != want {
		return fmt.Errorf("json mismatch: %s is %q, want %q", p, g, want)
	}
	return nil
}
