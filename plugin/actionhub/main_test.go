package actionhub_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestMainServesTheHub runs `brazesync action-hub` as the lead wires it and
// drives it like Looker: list, form, execute a Look into the Braze emulator.
func TestMainServesTheHub(t *testing.T) {
	braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{brazeKey}})
	looker := emutest.Looker(t, lookeremu.Seed(50))
	reportDir := t.TempDir()
	t.Setenv("HUB_SECRET_MAIN_TEST", testSecret)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int)
	dest := testbin.Path(t, "braze-destination")
	go func() {
		done <- actionhub.Main(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--secret-env", "HUB_SECRET_MAIN_TEST",
			"--report-dir", reportDir, "--max-concurrent", "2", "--create-users",
			"--destination-path", dest}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, stderr.String())
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	hub := &lookeremu.HubClient{URL: base, Token: actionhub.Token([]byte(testSecret), "main")}
	list, status, err := hub.List(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	def, ok := list.Action("braze")
	require.True(t, ok)
	data := map[string]string{"braze_api_key": brazeKey, "braze_api_endpoint": braze.URL()}
	res, err := looker.SendLook(ctx, hub, def, lookeremu.LookScenario, "", data, form("external_id", "MAIN"))
	require.NoError(t, err)
	require.True(t, res.Success, res.Message)
	assert.Len(t, braze.Profiles(), 50)

	cancel()
	assert.Equal(t, 0, <-done)
	files, _ := filepath.Glob(filepath.Join(reportDir, "*.json"))
	assert.Len(t, files, 1)
	b, _ := os.ReadFile(files[0])
	assert.NotContains(t, string(b)+stderr.String(), brazeKey, "the API key never reaches reports or logs")
	assert.NotContains(t, string(b)+stderr.String(), testSecret)
	assert.Contains(t, stderr.String(), "looker action executed")

	t.Setenv("HUB_SECRET_MAIN_TEST", "short")
	assert.Equal(t, 2, actionhub.Main(context.Background(), []string{"--secret-env", "HUB_SECRET_MAIN_TEST"}, io.Discard, io.Discard))
}

// A download_url Looker no longer serves (expired or used) fails the run
// with the status in the message; the stock 2021 hub parsed the error page.
func TestDownloadFailureIsReported(t *testing.T) {
	e := setup(t, envOptions{rows: 2, seed: true})
	look, _ := e.looker.Look(lookeremu.LookScenario)
	dl, err := e.looker.DownloadURL(look.Query)
	require.NoError(t, err)
	payload := lookeremu.ExecutePayload{Type: "query", ScheduledPlan: &lookeremu.ScheduledPlan{DownloadURL: dl},
		Data: e.data(), FormParams: form("external_id", "")}
	first, err := e.client.Execute(context.Background(), e.def, payload)
	require.NoError(t, err)
	require.True(t, first.Success, first.Message)
	second, err := e.client.Execute(context.Background(), e.def, payload)
	require.NoError(t, err)
	assert.False(t, second.Success)
	assert.Contains(t, second.Message, "status code: 404")
	assert.NotContains(t, second.Message, dl, "the one-time URL is a credential")
	assert.Len(t, e.reports(), 2)
	assert.Contains(t, e.logs.String(), `"status":"failed"`)
}
