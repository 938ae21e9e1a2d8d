package runner

import (
	"os"
	"sort"
	"strings"
)

// childEnvNames are the variables every plugin process gets from the runner's environment: what
// any program needs (PATH, HOME, user, temporary folder, time zone, locale), what a network client
// needs behind a corporate proxy or TLS inspection (proxies, extra CA certificates), and the Go
// runtime's knobs. Nothing else: the secrets a spec references (${BRAZE_API_KEY}) are resolved by
// the runner and travel inside the spec of the one plugin that uses them, over its RPC.
var childEnvNames = []string{
	"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ", "LANG", "LANGUAGE", "XDG_CACHE_HOME",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
	"GOMAXPROCS", "GOMEMLIMIT", "GOGC", "GODEBUG", "GOTRACEBACK",
}

// childEnvPrefixes: locale categories, and the hooks of the project's own tests (BRAZESYNC_TEST_*,
// read only by binaries built with the test-hooks tag).
var childEnvPrefixes = []string{"LC_", "BRAZESYNC_TEST_"}

// envSuffix marks a plugin spec field that names an environment variable the plugin reads itself
// (looker's client_secret_env): that variable, and only to that plugin, is passed too.
const envSuffix = "_env"

// childEnv is the environment of one plugin process whose `spec:` block is spec. It is never nil:
// a nil environment would make exec inherit the runner's whole environment.
func childEnv(spec map[string]any) []string {
	keep := map[string]bool{}
	for _, n := range childEnvNames {
		keep[n] = true
	}
	for _, n := range namedEnv(spec) {
		keep[n] = true
	}
	env := []string{}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if keep[name] || hasAnyPrefix(name, childEnvPrefixes) {
			env = append(env, kv)
		}
	}
	sort.Strings(env)
	return env
}

// namedEnv lists the variables a spec names in its top-level *_env fields.
func namedEnv(spec map[string]any) []string {
	var names []string
	for k, v := range spec {
		if s, ok := v.(string); ok && strings.HasSuffix(k, envSuffix) && s != "" {
			names = append(names, s)
		}
	}
	return names
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
