// Package adminapi holds what the modules' endpoints on Caddy's admin API
// (caddy.AdminRouter) share: a route that answers only its methods, the
// 405 it answers otherwise, and the JSON answer. The dashboard's HTTP
// handler serves the same endpoints and turns their caddy.APIError into
// a handler error with its status.
package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// Route is the admin route for pattern whose handler h serves only the
// methods given; any other method is answered by MethodNotAllowed.
func Route(pattern string, h caddy.AdminHandlerFunc, methods ...string) caddy.AdminRoute {
	return caddy.AdminRoute{Pattern: pattern, Handler: caddy.AdminHandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if err := Allow(w, r, methods...); err != nil {
			return err
		}
		return h(w, r)
	})}
}

// Allow returns nil when r's method is one of methods, and otherwise
// answers as MethodNotAllowed does.
func Allow(w http.ResponseWriter, r *http.Request, methods ...string) error {
	for _, m := range methods {
		if r.Method == m {
			return nil
		}
	}
	return MethodNotAllowed(w, r, methods...)
}

// MethodNotAllowed is the 405 answer to r, naming the methods the endpoint
// serves: "method PUT not allowed; use GET, POST or DELETE", and in the
// Allow header that RFC 9110 (15.5.6) asks of a 405: "GET, POST, DELETE".
func MethodNotAllowed(w http.ResponseWriter, r *http.Request, methods ...string) error {
	w.Header().Set("Allow", strings.Join(methods, ", "))
	use := strings.Join(methods, " or ")
	if n := len(methods); n > 2 {
		use = strings.Join(methods[:n-1], ", ") + " or " + methods[n-1]
	}
	return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed,
		Err: fmt.Errorf("method %s not allowed; use %s", r.Method, use)}
}

// WriteJSON answers 200 with v as JSON.
func WriteJSON(w http.ResponseWriter, v any) error {
	return WriteJSONStatus(w, http.StatusOK, v)
}

// WriteJSONStatus answers status with v as JSON: for a body that is not
// an APIError's {"error": ...}, such as a partial failure's details.
func WriteJSONStatus(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
