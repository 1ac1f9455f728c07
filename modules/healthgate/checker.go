package healthgate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"syscall"
	"time"
)

// checkConfig is the compiled active check shared by the upstreams of a pool.
type checkConfig struct {
	uri       string
	method    string
	host      string
	interval  time.Duration
	timeout   time.Duration
	status    statusSpec
	bodyRe    *regexp.Regexp
	jsonPath  jsonPath
	jsonValue string
	rise      int
	fall      int
	follow    bool
	maxBody   int64
}

// needsBody reports whether the check looks at the response body.
func (c *checkConfig) needsBody() bool { return c.bodyRe != nil || c.jsonPath != nil }

// result is the outcome of one check.
type result struct {
	ok      bool
	latency time.Duration
	cause   string // why it failed: "connection refused", "timeout", "status 500", ...
	kind    string // bounded failure class for metrics: refused, timeout, status, body, json, error
}

// newCheckClient returns the HTTP client one upstream's checker uses: no
// keep-alive (a dead backend is seen at once, never through a stale
// connection), no proxy from the environment, and redirects returned as
// responses unless follow is set.
func newCheckClient(follow func() bool) *http.Client {
	tr := &http.Transport{
		Proxy:              nil,
		DialContext:        (&net.Dialer{KeepAlive: -1}).DialContext,
		DisableKeepAlives:  true,
		DisableCompression: true,
		MaxIdleConns:       0,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !follow() {
				return http.ErrUseLastResponse
			}
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			return nil
		},
	}
}

// check runs one active check against dial (host:port). It never takes
// longer than c.timeout: connect, response header and the body read all
// share the deadline.
func (c *checkConfig) check(ctx context.Context, client *http.Client, dial string) result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	fail := func(kind, cause string) result {
		return result{latency: time.Since(start), cause: cause, kind: kind}
	}

	req, err := http.NewRequestWithContext(ctx, c.method, "http://"+dial+c.uri, nil)
	if err != nil {
		return fail("error", err.Error())
	}
	if c.host != "" {
		req.Host = c.host
	}
	req.Header.Set("User-Agent", "frontdesk-healthgate")
	resp, err := client.Do(req)
	if err != nil {
		return fail(classify(ctx, err, c.timeout))
	}
	defer resp.Body.Close()

	if !c.status.match(resp.StatusCode) {
		return fail("status", fmt.Sprintf("status %d", resp.StatusCode))
	}
	if !c.needsBody() {
		return result{ok: true, latency: time.Since(start)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		kind, cause := classify(ctx, err, c.timeout)
		return fail(kind, "reading body: "+cause)
	}
	if int64(len(body)) > c.maxBody {
		return fail("body", fmt.Sprintf("body mismatch: body larger than max_body (%d bytes)", c.maxBody))
	}
	if c.bodyRe != nil && !c.bodyRe.Match(body) {
		return fail("body", fmt.Sprintf("body mismatch: does not match %q", c.bodyRe.String()))
	}
	if c.jsonPath != nil {
		if err := checkJSON(body, c.jsonPath, c.jsonValue); err != nil {
			return fail("json", err.Error())
		}
	}
	return result{ok: true, latency: time.Since(start)}
}

// classify turns a transport error into a failure class and a short cause
// for logs and the admin API.
func classify(ctx context.Context, err error, timeout time.Duration) (kind, cause string) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused", "connection refused"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()):
		return "timeout", fmt.Sprintf("timeout after %s", timeout)
	case errors.Is(err, syscall.ECONNRESET):
		return "error", "connection reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "error", "connection closed by upstream"
	}
	return "error", err.Error()
}
