package testbin

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// KeyPair is an RSA key pair for Snowflake key-pair login, in every form a test needs.
type KeyPair struct {
	Public     *rsa.PublicKey // for snowflakeemu.Options.PublicKey
	PrivatePEM string         // PKCS#8 "PRIVATE KEY" PEM: what private_key holds
	PublicPEM  string         // PKIX "PUBLIC KEY" PEM, as `openssl rsa -pubout` writes it
	// RSAPublicKey is the public key as Snowflake takes it in ALTER USER … SET RSA_PUBLIC_KEY:
	// the base64 DER of PublicPEM, without the armour lines.
	RSAPublicKey string
	// PrivatePath and PublicPath hold the two PEM files (private_key_path, and the emulator's
	// --public-key), in a folder removed when the test ends.
	PrivatePath, PublicPath string
}

// NewKeyPair makes a fresh 2048-bit key pair: the one way tests make Snowflake keys.
func NewKeyPair(tb testing.TB) KeyPair {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("generating an RSA key: %v", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("encoding the private key: %v", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		tb.Fatalf("encoding the public key: %v", err)
	}
	dir := tb.TempDir()
	kp := KeyPair{
		Public:       &key.PublicKey,
		PrivatePEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})),
		PublicPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		RSAPublicKey: base64.StdEncoding.EncodeToString(pub),
		PrivatePath:  filepath.Join(dir, "rsa_key.p8"),
		PublicPath:   filepath.Join(dir, "rsa_key.pub"),
	}
	for path, text := range map[string]string{kp.PrivatePath: kp.PrivatePEM, kp.PublicPath: kp.PublicPEM} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return kp
}
