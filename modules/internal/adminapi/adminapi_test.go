package adminapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestRouteAnswersOnlyItsMethods(t *testing.T) {
	route := Route("/x", func(w http.ResponseWriter, r *http.Request) error {
		return WriteJSON(w, map[string]string{"method": r.Method})
	}, http.MethodGet, http.MethodHead)
	if route.Pattern != "/x" {
		t.Fatalf("pattern %q, want /x", route.Pattern)
	}
	w := httptest.NewRecorder()
	if err := route.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil)); err != nil {
		t.Fatalf("GET: %v", err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if body := w.Body.String(); body != "{\"method\":\"GET\"}\n" {
		t.Errorf("body %q", body)
	}
	err := route.Handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodDelete, "/x", nil))
	var ae caddy.APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE: %v, want a 405 APIError", err)
	}
	if want := "method DELETE not allowed; use GET or HEAD"; ae.Err.Error() != want {
		t.Errorf("DELETE: %q, want %q", ae.Err, want)
	}
}

func TestAllow(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	w := httptest.NewRecorder()
	if err := Allow(w, r, http.MethodGet, http.MethodPost); err != nil {
		t.Errorf("POST among GET, POST: %v", err)
	}
	if got := w.Header().Get("Allow"); got != "" {
		t.Errorf("Allow header %q on an allowed method", got)
	}
	if err := Allow(w, r, http.MethodGet); err == nil || err.Error() != "method POST not allowed; use GET" {
		t.Errorf("POST where only GET: %v", err)
	}
	put := httptest.NewRequest(http.MethodPut, "/", nil)
	w = httptest.NewRecorder()
	if err := Allow(w, put, http.MethodGet, http.MethodPost, http.MethodDelete); err == nil ||
		err.Error() != "method PUT not allowed; use GET, POST or DELETE" {
		t.Errorf("PUT where GET, POST, DELETE: %v", err)
	}
	if got, want := w.Header().Get("Allow"), "GET, POST, DELETE"; got != want {
		t.Errorf("405's Allow header %q, want %q (RFC 9110 15.5.6)", got, want)
	}
}

func TestWriteJSONStatus(t *testing.T) {
	w := httptest.NewRecorder()
	if err := WriteJSONStatus(w, http.StatusBadGateway, map[string]int{"purged": 2}); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusBadGateway || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != "{\"purged\":2}\n" {
		t.Errorf("got %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
}
