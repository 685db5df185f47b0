package api

import (
	"crypto/subtle"
	"net/http"
)

// RequireAuth guards h with the REST API's credentials (HTTP Basic,
// accountSID:authToken): other requests get Twilio's 401 (code 20003)
// with WWW-Authenticate. Other packages' APIs (the Serverless API of
// package functions) mount behind it.
func RequireAuth(accountSID, authToken string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || accountSID == "" || authToken == "" ||
			subtle.ConstantTimeCompare([]byte(user), []byte(accountSID))&subtle.ConstantTimeCompare([]byte(pass), []byte(authToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		h.ServeHTTP(w, r)
	})
}
