package brazeapi

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// EndpointPolicy decides where an API key may be sent. It is the one policy of every front door
// (the destination, `brazesync check`, the Looker Action Hub), so a host is accepted by all of them
// or by none. The zero value accepts Braze's published REST hosts over https, and loopback addresses
// (the local emulators) over http or https; any other host must be allowed explicitly and use https.
type EndpointPolicy struct {
	// AllowCustom accepts any other host over https (the destination's allow_custom_endpoint).
	AllowCustom bool
	// ExtraHosts are hosts ("proxy.example.com") or host:port values accepted besides the published
	// ones, over https: a proxy the operator named (the hub's --allow-endpoint-host).
	ExtraHosts []string
}

// EndpointKind says why an endpoint was accepted.
type EndpointKind int

// Endpoint kinds.
const (
	Published EndpointKind = iota + 1 // one of Braze's REST hosts (Instances)
	Loopback                          // this machine: the emulators
	Custom                            // allowed by AllowCustom or ExtraHosts
)

// Endpoint is an endpoint the policy accepted, normalised: lower-case host, no trailing slash, no
// :443 on a published host.
type Endpoint struct {
	URL      *url.URL
	Kind     EndpointKind
	Instance Instance // the instance of a Published endpoint
}

// ParseEndpoint checks that an endpoint is safe to send an API key to under the default policy, with
// any https host accepted when allowCustom is set, and returns it normalised. A bare host such as
// "rest.iad-01.braze.com" means https.
func ParseEndpoint(raw string, allowCustom bool) (*url.URL, error) {
	e, err := EndpointPolicy{AllowCustom: allowCustom}.Check(raw)
	if err != nil {
		return nil, err
	}
	return e.URL, nil
}

// Check applies the policy to raw. Errors name the host, never the raw text, which may hold a
// password or a key in its user info or query.
func (p EndpointPolicy) Check(raw string) (Endpoint, error) {
	u, err := parseURL(raw)
	if err != nil {
		return Endpoint{}, err
	}
	host := u.Hostname()
	if isLoopback(host) {
		return Endpoint{URL: u, Kind: Loopback}, nil // the local emulators, over http or https
	}
	if u.Scheme != "https" {
		return Endpoint{}, fmt.Errorf("endpoint %s must use https: the API key must not travel in clear text", u.Host)
	}
	if in, ok := InstanceOf(host); ok {
		return published(u, in)
	}
	if p.AllowCustom || p.extra(u) {
		return Endpoint{URL: u, Kind: Custom}, nil
	}
	return Endpoint{}, fmt.Errorf("endpoint host %q is not a Braze REST host%s; set allow_custom_endpoint: true to send the API key there anyway",
		host, hint(host))
}

// parseURL reads raw as an http(s) URL without credentials, query or fragment.
func parseURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errors.New("endpoint is empty: set it to your instance's REST endpoint, e.g. https://rest.iad-01.braze.com")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("endpoint is not a URL such as https://rest.iad-01.braze.com") // err quotes the text
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint scheme %q is not https", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("endpoint has no host: set it to your instance's REST endpoint, e.g. https://rest.iad-01.braze.com")
	}
	u.Host = strings.ToLower(u.Host)
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %s must not carry credentials, a query or a fragment: the key goes in api_key", u.Host)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// published checks what a Braze REST host allows: Braze serves the API at the root, on 443.
func published(u *url.URL, in Instance) (Endpoint, error) {
	if port := u.Port(); port != "" && port != "443" {
		return Endpoint{}, fmt.Errorf("endpoint %s: Braze REST hosts listen on port 443, not %s", u.Host, port)
	}
	if u.Path != "" {
		return Endpoint{}, fmt.Errorf("endpoint %s has a path (%s): use the REST host itself, e.g. https://%s", u.Host, u.Path, in.REST)
	}
	u.Host = in.REST
	return Endpoint{URL: u, Kind: Published, Instance: in}, nil
}

// extra reports whether u's host or host:port is one of p.ExtraHosts.
func (p EndpointPolicy) extra(u *url.URL) bool {
	for _, h := range p.ExtraHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == u.Host || (h == u.Hostname() && u.Port() == "") {
			return true
		}
	}
	return false
}

// hint names the REST host meant when host is a dashboard or SDK host of an instance.
func hint(host string) string {
	if in, ok := InstanceOfDashboard(host); ok {
		return fmt.Sprintf(" (it is the dashboard of %s; its REST host is %s)", in.Name, in.REST)
	}
	if rest, ok := strings.CutPrefix(host, "sdk."); ok {
		if in, ok := InstanceOf("rest." + rest); ok {
			return fmt.Sprintf(" (it is the SDK host of %s; its REST host is %s)", in.Name, in.REST)
		}
	}
	return " (e.g. rest.iad-01.braze.com, rest.fra-01.braze.eu; every instance is in docs/troubleshooting.md#which-rest-host)"
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
