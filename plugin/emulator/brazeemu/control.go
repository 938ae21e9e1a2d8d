package brazeemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// serveControl serves the /_emulator/ control surface used by the standalone process
// (and by tests that prefer HTTP to the Go API):
//
//	GET    /_emulator/profiles        all profiles (Profiles order)
//	POST   /_emulator/profiles        seed: a JSON Profile or array of Profiles
//	GET    /_emulator/profiles/{id}   one profile by external_id (path-escaped), or 404
//	GET    /_emulator/events          every recorded event with its user (Events)
//	GET    /_emulator/purchases       every recorded purchase with its user (Purchases)
//	GET    /_emulator/stats           Stats
//	POST   /_emulator/reset           Reset
//	GET    /_emulator/faults          current faults with fired counts
//	PUT    /_emulator/faults          replace faults with a JSON array (POST accepted too)
//	DELETE /_emulator/faults          clear faults
//
// When Options.AdminToken is set these require "Authorization: Bearer <token>".
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	if e.opts.AdminToken != "" && bearerToken(r) != e.opts.AdminToken {
		writeJSON(w, http.StatusUnauthorized, message("invalid admin token"))
		return
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), controlPrefix)
	switch {
	case rest == "profiles" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.Profiles())
	case rest == "profiles" && r.Method == http.MethodPost:
		e.controlSeed(w, r)
	case strings.HasPrefix(rest, "profiles/") && r.Method == http.MethodGet:
		id, err := url.PathUnescape(strings.TrimPrefix(rest, "profiles/"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, message("bad external_id escape"))
			return
		}
		p, ok := e.Profile(id)
		if !ok {
			writeJSON(w, http.StatusNotFound, message("no profile with this external_id"))
			return
		}
		writeJSON(w, http.StatusOK, p)
	case (rest == "events" || rest == "purchases") && r.Method == http.MethodGet:
		e.controlEventLog(w, rest)
	case rest == "stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.Stats())
	case rest == "reset" && r.Method == http.MethodPost:
		e.Reset()
		writeJSON(w, http.StatusOK, message("reset"))
	case rest == "faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.Faults())
	case rest == "faults" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		var fs []Fault
		if err := json.NewDecoder(io.LimitReader(r.Body, e.opts.MaxBodyBytes)).Decode(&fs); err != nil {
			writeJSON(w, http.StatusBadRequest, message("decoding faults: "+err.Error()))
			return
		}
		e.SetFaults(fs...)
		writeJSON(w, http.StatusOK, e.Faults())
	case rest == "faults" && r.Method == http.MethodDelete:
		e.SetFaults()
		writeJSON(w, http.StatusOK, []Fault{})
	default:
		writeJSON(w, http.StatusNotFound, message("unknown control endpoint"))
	}
}

func (e *Emulator) controlSeed(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, e.opts.MaxBodyBytes))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message("reading body failed"))
		return
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		body = append(append([]byte{'['}, body...), ']')
	}
	var ps []Profile
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keep integers integral; Seed normalises them to int64
	if err := dec.Decode(&ps); err != nil {
		writeJSON(w, http.StatusBadRequest, message("decoding profiles: "+err.Error()))
		return
	}
	e.Seed(ps...)
	writeJSON(w, http.StatusOK, map[string]int{"seeded": len(ps)})
}
