package snowflakeemu

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// session is one logged-in driver connection.
type session struct {
	id                          int64
	token, master               string
	user, authenticator         string
	warehouse, role, db, schema string
	expired                     bool
}

// Snowflake's error codes for the failures the emulator produces.
const (
	codeBadLogin        = "390100" // Incorrect username or password
	codeJWTInvalid      = "390144" // JWT token is invalid
	codeOAuthInvalid    = "390303" // Invalid OAuth access token
	codeRoleNotAllowed  = "390189" // Role specified does not exist or not authorized
	codeSessionGone     = "390111" // Session no longer exists
	codeSessionExpired  = "390112" // Session token expired: renew
	codeMasterExpired   = "390114" // Master token expired
	codeStillRunning    = "333333"
	codeCompileNoObject = "002003"
	codeInvalidIdent    = "000904"
	codeSyntax          = "001003"
	codeNoWarehouse     = "000606"
	codeCanceled        = "000604"
	codeExecution       = "100038"
)

// envelope is the JSON wrapper of every Snowflake REST answer.
type envelope struct {
	Data    any     `json:"data"`
	Code    *string `json:"code"`
	Message *string `json:"message"`
	Success bool    `json:"success"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, envelope{Data: data, Success: true})
}

func writeFail(w http.ResponseWriter, code, msg string, data any) {
	writeJSON(w, envelope{Data: data, Code: &code, Message: &msg})
}

func (e *Emulator) handleOK(w http.ResponseWriter, _ *http.Request) { writeOK(w, nil) }

type loginRequest struct {
	Data struct {
		AccountName   string `json:"ACCOUNT_NAME"`
		LoginName     string `json:"LOGIN_NAME"`
		Password      string `json:"PASSWORD"`
		Authenticator string `json:"AUTHENTICATOR"`
		Token         string `json:"TOKEN"`
	} `json:"data"`
}

func (e *Emulator) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad login body", http.StatusBadRequest)
		return
	}
	d := req.Data
	auth := strings.ToUpper(d.Authenticator)
	if auth == "" {
		auth = "SNOWFLAKE"
	}
	userOK := strings.EqualFold(d.LoginName, e.opts.User) && strings.EqualFold(d.AccountName, e.opts.Account)
	switch auth {
	case "SNOWFLAKE":
		if !userOK || e.opts.Password == "" || d.Password != e.opts.Password {
			writeFail(w, codeBadLogin, "Incorrect username or password was specified.", nil)
			return
		}
	case "SNOWFLAKE_JWT":
		// The driver sends no LOGIN_NAME with a JWT: the token's subject
		// (checked by verifyJWT) names the user.
		if err := e.verifyJWT(d.Token); err != nil || !strings.EqualFold(d.AccountName, e.opts.Account) {
			writeFail(w, codeJWTInvalid, "JWT token is invalid.", nil)
			return
		}
	case "OAUTH":
		if e.opts.OAuthToken == "" || d.Token != e.opts.OAuthToken {
			writeFail(w, codeOAuthInvalid, "Invalid OAuth access token. ", nil)
			return
		}
	default:
		writeFail(w, codeBadLogin, "Authenticator "+auth+" is not supported by the emulator.", nil)
		return
	}
	q := r.URL.Query()
	role := strings.ToUpper(q.Get("roleName"))
	if role == "" {
		role = e.opts.Roles[0]
	}
	if !slices.Contains(upper(e.opts.Roles), role) {
		writeFail(w, codeRoleNotAllowed, fmt.Sprintf("Role '%s' specified in the connect string does not exist or not authorized. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.", role), nil)
		return
	}
	// An unknown warehouse does not fail the login on Snowflake: the
	// session simply has none, and queries then fail with 000606.
	wh := strings.ToUpper(q.Get("warehouse"))
	if !slices.Contains(upper(e.opts.Warehouses), wh) {
		wh = ""
	}
	s := &session{token: "st-" + newID(), master: "mt-" + newID(), user: strings.ToUpper(e.opts.User),
		authenticator: auth, warehouse: wh, role: role, db: e.opts.Database, schema: e.opts.Schema}
	e.mu.Lock()
	s.id = int64(len(e.logins) + 1)
	e.sessions[s.token] = s
	e.masters[s.master] = s
	e.logins = append(e.logins, auth)
	e.mu.Unlock()
	writeOK(w, map[string]any{
		"token": s.token, "masterToken": s.master, "sessionId": s.id,
		"validityInSeconds": 3600, "masterValidityInSeconds": 14400,
		"parameters":  sessionParameters(),
		"sessionInfo": map[string]any{"databaseName": s.db, "schemaName": s.schema, "warehouseName": nullable(s.warehouse), "roleName": s.role},
	})
}

func sessionParameters() []map[string]any {
	return []map[string]any{
		{"name": "TIMEZONE", "value": "UTC"},
		{"name": "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "value": 3600},
		// Snowflake's default: an array binding of at least this many values goes through a stage
		// upload instead of the request body; the emulator serves the body form only.
		{"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": stageBindingThreshold},
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// verifyJWT checks a key-pair login token the way Snowflake does: RS256
// signature by the user's registered public key, issuer naming that key's
// SHA-256 fingerprint, subject ACCOUNT.USER, and not expired.
func (e *Emulator) verifyJWT(token string) error {
	if e.opts.PublicKey == nil {
		return errors.New("no public key registered")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("malformed token")
	}
	var header struct{ Alg string }
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return errors.New("bad header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("bad signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(e.opts.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		return errors.New("signature does not verify")
	}
	var claims struct {
		Iss, Sub string
		Exp, Iat int64
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return errors.New("bad claims")
	}
	der, err := x509.MarshalPKIXPublicKey(e.opts.PublicKey)
	if err != nil {
		return err
	}
	fp := sha256.Sum256(der)
	who := strings.ToUpper(e.opts.Account) + "." + strings.ToUpper(e.opts.User)
	if claims.Sub != who || claims.Iss != who+".SHA256:"+base64.StdEncoding.EncodeToString(fp[:]) {
		return errors.New("issuer or subject mismatch")
	}
	if claims.Exp < time.Now().Unix() {
		return errors.New("token expired")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// sessionFor authenticates a request by its session token. It writes the
// error answer itself and returns nil when the token is unknown or expired.
func (e *Emulator) sessionFor(w http.ResponseWriter, r *http.Request) *session {
	tok := tokenOf(r)
	e.mu.Lock()
	s := e.sessions[tok]
	e.mu.Unlock()
	switch {
	case s == nil:
		writeFail(w, codeSessionGone, "Session no longer exists.  New login required to access the service.", nil)
		return nil
	case s.expired:
		writeFail(w, codeSessionExpired, "Session token expired.", nil)
		return nil
	}
	return s
}

func tokenOf(r *http.Request) string {
	h := r.Header.Get("Authorization")
	h = strings.TrimPrefix(h, "Snowflake Token=")
	return strings.Trim(h, `"`)
}

func (e *Emulator) handleRenew(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OldSessionToken string `json:"oldSessionToken"`
		RequestType     string `json:"requestType"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.masters[tokenOf(r)]
	if s == nil || req.RequestType != "RENEW" || s.token != req.OldSessionToken {
		writeFail(w, codeMasterExpired, "Master token expired or invalid.", nil)
		return
	}
	delete(e.sessions, s.token)
	s.token, s.expired = "st-"+newID(), false
	e.sessions[s.token] = s
	e.renewals++
	writeOK(w, map[string]any{"sessionToken": s.token, "validityInSecondsST": 3600,
		"masterToken": s.master, "validityInSecondsMT": 14400, "sessionId": s.id})
}

func (e *Emulator) handleSessionDelete(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("delete") != "true" {
		http.Error(w, "unsupported", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	if s := e.sessions[tokenOf(r)]; s != nil {
		delete(e.sessions, s.token)
		delete(e.masters, s.master)
		e.closed++
	}
	e.mu.Unlock()
	writeOK(w, nil)
}
