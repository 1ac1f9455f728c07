package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBackend(t *testing.T) {
	if len(body) != bodySize || !json.Valid(body) {
		t.Fatalf("backend body: %d bytes, valid JSON %v", len(body), json.Valid(body))
	}
	srv := httptest.NewServer(backendHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/any/path")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != bodySize ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Powered-By") != poweredBy {
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
