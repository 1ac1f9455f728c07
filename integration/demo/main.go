// Command demo runs the demo backends the scenario Caddyfiles proxy to, so that
// every scenario in caddyfile/ runs as shipped (integration/scenario.sh starts
// it). Each backend listens on one loopback address and names itself in every
// answer, so load balancing, failover and caching can be watched with curl:
//
//	demo app1=127.0.0.1:9061 app2=127.0.0.1:9062
//
// Endpoints of every backend:
//
//	/health, /healthz  {"status":"healthy"} (the seeds' HAProxy and lab checks)
//	/ws                WebSocket echo
//	/slow?d=2s         answers after the given delay (for timeouts)
//	anything else      JSON naming the backend, the request and a counter
//
// Answers carry Server and X-Powered-By, as a real framework's do, so the
// scenarios that hide them show it.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/websocket"
)

// backend is one named demo server.
type backend struct {
	name   string
	served atomic.Int64
}

func (b *backend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", b.health)
	mux.HandleFunc("/healthz", b.health)
	mux.Handle("/ws", websocket.Handler(b.echo))
	mux.HandleFunc("/slow", b.slow)
	mux.HandleFunc("/", b.describe)
	return mux
}

func (b *backend) health(w http.ResponseWriter, _ *http.Request) {
	b.reply(w, map[string]any{"status": "healthy", "backend": b.name})
}

func (b *backend) slow(w http.ResponseWriter, r *http.Request) {
	d, err := time.ParseDuration(r.URL.Query().Get("d"))
	if err != nil {
		http.Error(w, "slow: want ?d=<duration>, e.g. ?d=2s", http.StatusBadRequest)
		return
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
		return
	}
	b.reply(w, map[string]any{"backend": b.name, "slept": d.String()})
}

func (b *backend) describe(w http.ResponseWriter, r *http.Request) {
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[k] = strings.Join(v, ", ")
	}
	b.reply(w, map[string]any{
		"backend": b.name,
		"served":  b.served.Add(1),
		"method":  r.Method,
		"host":    r.Host,
		"uri":     r.RequestURI,
		"headers": headers,
	})
}

func (b *backend) echo(ws *websocket.Conn) {
	for {
		var msg string
		if err := websocket.Message.Receive(ws, &msg); err != nil {
			return
		}
		if err := websocket.Message.Send(ws, b.name+": "+msg); err != nil {
			return
		}
	}
}

func (b *backend) reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Server", "demo/1.0")
	w.Header().Set("X-Powered-By", "demo")
	w.Header().Set("X-Backend", b.name)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("demo: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: demo name=127.0.0.1:port ...")
	}
	for _, arg := range os.Args[1:] {
		name, addr, ok := strings.Cut(arg, "=")
		if !ok || name == "" || addr == "" {
			log.Fatalf("%q: want name=address", arg)
		}
		b := &backend{name: name}
		srv := &http.Server{Addr: addr, Handler: b.handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil {
				log.Fatalf("%s on %s: %v", name, addr, err)
			}
		}()
		fmt.Fprintf(os.Stderr, "demo: %s on http://%s/\n", name, addr)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
