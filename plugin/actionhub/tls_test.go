package actionhub_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files and returns their paths
// and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "brazesync hub test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "hub.crt"), filepath.Join(dir, "hub.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile, pool
}

// TestHubServesHTTPS runs `brazesync action-hub --tls-cert --tls-key` with a self-signed
// certificate and drives it as Looker does, over https only.
func TestHubServesHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{brazeKey}})
	looker := emutest.Looker(t, lookeremu.Seed(5))
	t.Setenv("HUB_SECRET_TLS_TEST", testSecret)
	dest := testbin.Path(t, "braze-destination")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- actionhub.Main(ctx, []string{"--listen", "127.0.0.1:0", "--secret-env", "HUB_SECRET_TLS_TEST",
			"--report-dir", t.TempDir(), "--create-users", "--destination-path", dest,
			"--tls-cert", certFile, "--tls-key", keyFile}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, stderr.String())
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	require.True(t, strings.HasPrefix(base, "https://"), line)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	hub := &lookeremu.HubClient{URL: base, Token: actionhub.Token([]byte(testSecret), "tls"), HTTP: client}
	list, status, err := hub.List(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	def, ok := list.Action("braze")
	require.True(t, ok)
	assert.True(t, strings.HasPrefix(def.URL, "https://"), "the listed url keeps the scheme Looker used: %s", def.URL)
	res, err := looker.SendLook(ctx, hub, def, lookeremu.LookScenario, "", map[string]string{
		"braze_api_key": brazeKey, "braze_api_endpoint": braze.URL()}, form("external_id", "TLS"))
	require.NoError(t, err)
	require.True(t, res.Success, res.Message)
	assert.Len(t, braze.Profiles(), 5)

	// Plain http to the https port is refused, and a client that does not trust the certificate
	// cannot talk to it.
	resp, err := http.Post("http"+strings.TrimPrefix(base, "https"), "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	}
	_, err = http.Post(base+"/", "application/json", strings.NewReader("{}"))
	assert.Error(t, err)

	cancel()
	assert.Equal(t, 0, <-done)
}

func TestTLSFlagsGoTogether(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	t.Setenv("HUB_SECRET_TLS_TEST", testSecret)
	var stderr bytes.Buffer
	code := actionhub.Main(context.Background(), []string{"--secret-env", "HUB_SECRET_TLS_TEST", "--tls-cert", certFile}, io.Discard, &stderr)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "--tls-cert and --tls-key go together")
	stderr.Reset()
	code = actionhub.Main(context.Background(), []string{"--secret-env", "HUB_SECRET_TLS_TEST", "--tls-cert", keyFile, "--tls-key", keyFile}, io.Discard, &stderr)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "loading --tls-cert/--tls-key")
}
