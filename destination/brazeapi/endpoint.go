package brazeapi

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// restHosts are Braze's published REST hosts (shared/reference/braze-api.md §6). The API key is only
// ever sent to one of these, or to a loopback address (the emulators), unless the spec explicitly
// allows a custom endpoint.
var restHosts = map[string]string{
	"rest.iad-01.braze.com": "US-01", "rest.iad-02.braze.com": "US-02", "rest.iad-03.braze.com": "US-03",
	"rest.iad-04.braze.com": "US-04", "rest.iad-05.braze.com": "US-05", "rest.iad-06.braze.com": "US-06",
	"rest.iad-07.braze.com": "US-07", "rest.iad-08.braze.com": "US-08", "rest.us-10.braze.com": "US-10",
	"rest.fra-01.braze.eu": "EU-01", "rest.fra-02.braze.eu": "EU-02", "rest.au-01.braze.com": "AU-01",
	"rest.id-01.braze.com": "ID-01", "rest.jp-01.braze.com": "JP-01", "rest.kr-01.braze.com": "KR-01",
}

// Instance names the Braze instance of a REST host, or "" when the host is not a published one.
func Instance(host string) string { return restHosts[strings.ToLower(host)] }

// RESTHosts lists the published REST hosts (for messages and docs).
func RESTHosts() []string {
	hosts := make([]string, 0, len(restHosts))
	for h := range restHosts {
		hosts = append(hosts, h)
	}
	return hosts
}

// ParseEndpoint checks that an endpoint is safe to send an API key to and returns it normalised
// (lower-case host, no trailing slash). A bare host such as "rest.iad-01.braze.com" means https.
func ParseEndpoint(raw string, allowCustom bool) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, fmt.Errorf("endpoint is empty: set it to your instance's REST endpoint, e.g. https://rest.iad-01.braze.com")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q is not a URL: %w", raw, err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q must not carry credentials, a query or a fragment", raw)
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	if isLoopback(u.Hostname()) {
		return u, nil // the local emulators, over http or https
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint %q must use https: the API key must not travel in clear text", raw)
	}
	if Instance(u.Hostname()) == "" && !allowCustom {
		return nil, fmt.Errorf("endpoint host %q is not a Braze REST host (e.g. rest.iad-01.braze.com, rest.fra-01.braze.eu); "+
			"set allow_custom_endpoint: true to send the API key there anyway", u.Hostname())
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
