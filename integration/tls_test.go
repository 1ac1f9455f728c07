package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// selfSignedCert writes a self-signed certificate and key for names into dir
// (what `mkcert <name>` hands a user) and returns their paths and the
// certificate.
func selfSignedCert(t *testing.T, dir string, names ...string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{"frontdesk test"}},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, names[0]+".pem")
	keyFile = filepath.Join(dir, names[0]+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// tlsEnv is the environment that makes caddyfile/tls.Caddyfile's
// certificate files exist.
func tlsEnv(t *testing.T) ([]string, *x509.Certificate) {
	certFile, keyFile, cert := selfSignedCert(t, t.TempDir(), "tasks.apiclub.com")
	return []string{"TASKS_CERT=" + certFile, "TASKS_KEY=" + keyFile}, cert
}

// TestTLS runs caddyfile/tls.Caddyfile (seeds 003 and 004): TLS 1.2+ with
// HTTP/2 in front of two plain-HTTP services, a certificate from the internal
// CA and one from files, and 301 redirects from HTTP.
func TestTLS(t *testing.T) {
	api := newRecordingBackend(t, "api")
	tasks := newRecordingBackend(t, "tasks")
	env, tasksCert := tlsEnv(t)

	httpsPort := freePort(t)
	logDir := t.TempDir()
	httpAddr, siteEnv := httpSite(t, logDir)
	env = append(append(env, siteEnv...),
		"FRONTDESK_HTTPS_PORT="+strconv.Itoa(httpsPort), "API_UPSTREAM="+api.addr(), "TASKS_UPSTREAM="+tasks.addr())
	httpsAddr := "127.0.0.1:" + strconv.Itoa(httpsPort)
	runFrontdesk(t, logDir, "frontdesk-tls", repoFile(t, "caddyfile/tls.Caddyfile"), env, httpAddr, httpsAddr)

	// The internal CA's root, which `mkcert -install` would have trusted.
	rootFile := filepath.Join(logDir, "data", "caddy", "pki", "authorities", "local", "root.crt")
	var rootPEM []byte
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rootPEM, err = os.ReadFile(rootFile); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("internal CA root: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatal("root.crt holds no certificate")
	}
	roots.AddCert(tasksCert)

	// clientFor dials every name at frontdesk, like an /etc/hosts entry.
	clientFor := func(minV, maxV uint16) *http.Client {
		return &http.Client{
			Timeout: 10 * time.Second,
			Transport: &http.Transport{
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					_, port, _ := net.SplitHostPort(addr)
					return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
				},
				TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: minV, MaxVersion: maxV},
				ForceAttemptHTTP2: true,
				DisableKeepAlives: true,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	hc := clientFor(tls.VersionTLS12, tls.VersionTLS13)
	https := "https://%s:" + strconv.Itoa(httpsPort)

	// The internal CA issues apiclub.com's certificate in the background
	// right after start: wait until it is served.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := hc.Get(sprintf(https, "apiclub.com") + "/")
		if err == nil {
			readAll(t, resp)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("apiclub.com's certificate was not served within 15 s: %v", err)
		}
	}

	for _, c := range []struct {
		host    string
		backend *recordingBackend
		issuer  string
	}{
		{"apiclub.com", api, "Caddy Local Authority"},
		{"tasks.apiclub.com", tasks, "tasks.apiclub.com"},
	} {
		resp, err := hc.Get(sprintf(https, c.host) + "/v1/items?page=2")
		if err != nil {
			t.Fatalf("%s: %v", c.host, err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != 200 || body != "backend "+c.backend.name+" /v1/items?page=2" {
			t.Errorf("%s: %d %q", c.host, resp.StatusCode, body)
		}
		if resp.Proto != "HTTP/2.0" {
			t.Errorf("%s: %s, want HTTP/2.0", c.host, resp.Proto)
		}
		if cn := resp.TLS.PeerCertificates[0].Issuer.CommonName; !contains(cn, c.issuer) {
			t.Errorf("%s: certificate issued by %q, want %q", c.host, cn, c.issuer)
		}
		seen := c.backend.last(t)
		if seen.Host != c.host || seen.Header.Get("X-Forwarded-Proto") != "https" || seen.Header.Get("X-Real-Ip") != "127.0.0.1" {
			t.Errorf("%s: backend saw Host %q, X-Forwarded-Proto %q, X-Real-Ip %q", c.host, seen.Host,
				seen.Header.Get("X-Forwarded-Proto"), seen.Header.Get("X-Real-Ip"))
		}

		// return 301 https://$host$request_uri
		resp, err = hc.Get("http://" + c.host + ":" + portOf(httpAddr) + "/some/path?q=1&r=2")
		if err != nil {
			t.Fatalf("%s over http: %v", c.host, err)
		}
		readAll(t, resp)
		want := sprintf(https, c.host) + "/some/path?q=1&r=2"
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Errorf("http://%s: %d Location %q, want 301 %q", c.host, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}

	// ssl_protocols TLSv1.2 TLSv1.3: older clients are turned away, both
	// allowed versions work.
	if _, err := clientFor(tls.VersionTLS10, tls.VersionTLS11).Get(sprintf(https, "apiclub.com") + "/"); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		resp, err := clientFor(v, v).Get(sprintf(https, "apiclub.com") + "/")
		if err != nil {
			t.Errorf("TLS version %x refused: %v", v, err)
			continue
		}
		readAll(t, resp)
		if resp.TLS.Version != v {
			t.Errorf("negotiated %x, want %x", resp.TLS.Version, v)
		}
	}
}
