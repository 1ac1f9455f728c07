package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBackend(t *testing.T) {
	if len(body) != bodySize || !json.Valid(body) {
		t.Fatalf("backend body: %d bytes, valid JSON %v", len(body), json.Valid(body))
	}
	srv := httptest.NewServer(backendHandler(""))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/any/path")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != bodySize ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Powered-By") != poweredBy ||
		resp.Header.Get(backendHeader) != "" {
		t.Errorf("GET: %s, length %d, headers %v", resp.Status, resp.ContentLength, resp.Header)
	}
	resp, err = http.Post(srv.URL+"/", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s, want 405", resp.Status)
	}
}

// TestBackendTagAndHealthz: a tagged backend names itself in X-Backend on
// every response, and /healthz answers 200 with a small JSON body.
func TestBackendTagAndHealthz(t *testing.T) {
	srv := httptest.NewServer(backendHandler("18081"))
	defer srv.Close()
	for path, want := range map[string]string{"/": string(body), "/healthz": healthBody} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want || resp.Header.Get(backendHeader) != "18081" {
			t.Errorf("GET %s: %s, %q, %s %q", path, resp.Status, b, backendHeader, resp.Header.Get(backendHeader))
		}
	}
}
