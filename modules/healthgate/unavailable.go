package healthgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// Unavailable is what the client gets when no upstream of the pool is
// serving.
type Unavailable struct {
	// Status is 502 (Bad Gateway, the default, as nginx answers) or 503
	// (Service Unavailable). Either way the request fails at once, without
	// reverse_proxy's lb_try_duration retry loop.
	Status int `json:"status,omitempty"`

	// RetryAfter, only with status 503, adds a Retry-After header of this
	// many seconds (rounded up). Without it the 503 has no Retry-After.
	RetryAfter caddy.Duration `json:"retry_after,omitempty"`
}

// validate checks the JSON form; the Caddyfile checks the same with the
// file and line.
func (u *Unavailable) validate() error {
	if u == nil {
		return nil
	}
	switch u.Status {
	case 0, http.StatusBadGateway, http.StatusServiceUnavailable:
	default:
		return fmt.Errorf("unavailable: status must be 502 or 503, got %d", u.Status)
	}
	if u.RetryAfter < 0 {
		return fmt.Errorf("unavailable: retry_after must be positive")
	}
	if u.RetryAfter > 0 && u.Status != http.StatusServiceUnavailable {
		return fmt.Errorf("unavailable: retry_after needs status 503")
	}
	return nil
}

// wants503 reports whether the all-down answer is 503.
func (u *Unavailable) wants503() bool {
	return u != nil && u.Status == http.StatusServiceUnavailable
}

// retryAfterSeconds is the Retry-After value: whole seconds, rounded up;
// 0 means no header.
func (u *Unavailable) retryAfterSeconds() int64 {
	if u == nil || u.RetryAfter <= 0 {
		return 0
	}
	d := time.Duration(u.RetryAfter)
	return int64((d + time.Second - 1) / time.Second)
}

// checkProxy rejects reverse_proxy settings with which the 503 responder
// cannot work, so the mistake shows at load time instead of as slow 502s.
// The responder is a plain HTTP/1.1 and h2c server on 127.0.0.1, reached
// through the handler's own transport, and its 503 goes through the
// handler's passive health check and circuit breaker like any response.
func checkProxy(h *reverseproxy.Handler) error {
	if h == nil {
		return nil
	}
	if h.Transport != nil {
		ht, ok := h.Transport.(*reverseproxy.HTTPTransport)
		if !ok {
			return fmt.Errorf("unavailable 503 works only with reverse_proxy's http transport, not %T", h.Transport)
		}
		switch {
		case ht.TLS != nil:
			return fmt.Errorf("unavailable 503 does not work with transport tls (healthgate checks plain HTTP upstreams only)")
		case ht.ProxyProtocol != "":
			return fmt.Errorf("unavailable 503 does not work with transport proxy_protocol")
		case ht.ForwardProxyURL != "" || len(ht.NetworkProxyRaw) > 0:
			return fmt.Errorf("unavailable 503 does not work with a transport network_proxy (it would route the 503 answer through that proxy)")
		}
		for _, v := range ht.Versions {
			if v == "3" {
				return fmt.Errorf("unavailable 503 does not work with transport versions 3")
			}
		}
	}
	if p := passive(h); p != nil && p.FailDuration > 0 {
		for _, code := range p.UnhealthyStatus {
			if caddyhttp.StatusCodeMatches(http.StatusServiceUnavailable, code) {
				return fmt.Errorf("unavailable 503 conflicts with passive health check unhealthy_status %s: "+
					"every all-down 503 would count as a failure of healthgate's responder, which reverse_proxy would then skip, "+
					"making requests wait out lb_try_duration; leave 503 out of unhealthy_status (e.g. 500 502 504) or use unavailable 502", statusText(code))
			}
		}
	}
	if h.CB != nil {
		return fmt.Errorf("unavailable 503 does not work with a circuit breaker: the all-down 503s would trip it for the real upstreams")
	}
	return nil
}

// statusText shows a status code as configured: 503, or 5xx for a class.
func statusText(code int) string {
	if code < 10 {
		return strconv.Itoa(code) + "xx"
	}
	return strconv.Itoa(code)
}

func passive(h *reverseproxy.Handler) *reverseproxy.PassiveHealthChecks {
	if h.HealthChecks == nil {
		return nil
	}
	return h.HealthChecks.Passive
}

// parentProxy is the reverse_proxy handler provisioning this source, if
// that is what it is.
func parentProxy(ctx caddy.Context) *reverseproxy.Handler {
	mods := ctx.Modules()
	if len(mods) < 2 {
		return nil
	}
	h, _ := mods[len(mods)-2].(*reverseproxy.Handler)
	return h
}

// responders holds one *responder per (pool, Retry-After), reference-
// counted by the loaded configs that use it, like states: a reload that
// keeps the setting keeps the listener (and its port); the last config
// that uses it going away closes it.
var responders = caddy.NewUsagePool()

type responderKey struct {
	pool       string
	retryAfter int64
}

// responder is an in-process HTTP server on 127.0.0.1 that answers every
// request with 503. While nothing in its pool is serving, GetUpstreams
// hands reverse_proxy one upstream that dials it, so the 503 reaches the
// client as a normal proxied response: the round trip succeeded, so it is
// not retried and is not counted against any real upstream.
type responder struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

// acquireResponder takes a reference to the responder of (pool,
// retryAfter), starting it if no loaded config has it yet.
func acquireResponder(pool string, retryAfter int64) (*responder, error) {
	v, _, err := responders.LoadOrNew(responderKey{pool, retryAfter}, func() (caddy.Destructor, error) {
		return startResponder(pool, retryAfter)
	})
	if err != nil {
		return nil, fmt.Errorf("starting the 503 responder: %v", err)
	}
	return v.(*responder), nil
}

func releaseResponder(pool string, retryAfter int64) {
	_, _ = responders.Delete(responderKey{pool, retryAfter})
}

// unavailableBody is the JSON body of the 503.
type unavailableBody struct {
	Error      string `json:"error"`
	Pool       string `json:"pool"`
	RetryAfter int64  `json:"retry_after,omitempty"`
}

func startResponder(pool string, retryAfter int64) (*responder, error) {
	body, err := json.Marshal(unavailableBody{Error: "no healthy upstream", Pool: pool, RetryAfter: retryAfter})
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	header := http.Header{
		"Content-Type":           {"application/json"},
		"Content-Length":         {strconv.Itoa(len(body))},
		"Cache-Control":          {"no-store"},
		"X-Content-Type-Options": {"nosniff"},
	}
	if retryAfter > 0 {
		header["Retry-After"] = []string{strconv.FormatInt(retryAfter, 10)}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true) // transport versions h2c
	r := &responder{
		addr: ln.Addr().String(),
		done: make(chan struct{}),
		srv: &http.Server{
			// A plain handler, not a ServeMux: no redirects of odd paths,
			// every method and path gets the same answer.
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				drain(w, r)
				h := w.Header()
				for k, v := range header {
					h[k] = v
				}
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write(body)
			}),
			Protocols:                    protocols,
			DisableGeneralOptionsHandler: true, // OPTIONS * gets the 503 too
			ReadHeaderTimeout:            10 * time.Second,
			// Longer than reverse_proxy's idle keep-alive (2 min by
			// default), so the proxy closes idle connections first
			// and never reuses one this side is closing.
			IdleTimeout: 5 * time.Minute,
			// The request already passed the front server's header limit.
			MaxHeaderBytes: 16 << 20,
			ErrorLog:       log.New(io.Discard, "", 0),
		},
	}
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(ln)
	}()
	return r, nil
}

// Bounds of reading a request body before answering.
const (
	drainLimit   = 8 << 20
	drainTimeout = 2 * time.Second
)

// drain reads and discards the request body (up to drainLimit bytes, for
// up to drainTimeout) before the 503 is written. reverse_proxy streams
// the client's body to the responder, so this consumes the client's
// upload: the client gets the 503 after sending its body, on a connection
// that stays open. Answering before the body is read would make both
// servers close their connection with unread data, and a client still
// sending would often see a connection reset instead of the 503.
func drain(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(drainTimeout))
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, drainLimit))
}

// upstream is the sentinel that dials the responder. MaxRequests keeps
// passive health's unhealthy_request_count from marking it full.
func (r *responder) upstream() *reverseproxy.Upstream {
	return &reverseproxy.Upstream{Dial: r.addr, MaxRequests: math.MaxInt}
}

// Destruct stops the listener, lets requests being answered finish (they
// take microseconds), closes idle connections and waits for the server
// goroutine. It implements caddy.Destructor.
func (r *responder) Destruct() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = r.srv.Close()
	}
	<-r.done
	return err
}
