package actionhub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// headerToken extracts the value of `Token token="…"`. Unlike the stock hub's
// unanchored `[T|t]oken` regex, the whole header must have this form.
var headerToken = regexp.MustCompile(`^[Tt]oken token="([^"]*)"$`)

// Token returns the Authorization token the Looker admin pastes into Looker
// for a given nonce: nonce + "/" + hex(HMAC-SHA512(secret, nonce)), the
// stock hub's format.
func Token(secret []byte, nonce string) string {
	return nonce + "/" + sign(secret, nonce)
}

// NewToken returns a token with a fresh random 32-byte hex nonce.
func NewToken(secret []byte) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating nonce: %w", err)
	}
	return Token(secret, hex.EncodeToString(b)), nil
}

func sign(secret []byte, nonce string) string {
	m := hmac.New(sha512.New, secret)
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// authorized checks an Authorization header in constant time. Any malformed
// header, including one whose HMAC has the wrong length (which hangs the
// stock hub), is simply refused.
func authorized(secret []byte, header string) bool {
	m := headerToken.FindStringSubmatch(header)
	if m == nil {
		return false
	}
	nonce, mac, ok := strings.Cut(m[1], "/")
	if !ok || nonce == "" || mac == "" {
		return false
	}
	want := []byte(sign(secret, nonce))
	// hmac.Equal is constant-time for equal lengths and false otherwise; the
	// expected length (128 hex digits) is public.
	return hmac.Equal([]byte(strings.ToLower(mac)), want)
}
