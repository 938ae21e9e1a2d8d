package check

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/brazeapi"
)

// regionHint is the fix of a 401: most unknown keys are keys of another instance. The examples come
// from the instance table the endpoint policy uses, so the hint cannot name a host it refuses.
var regionHint = "copy the REST API key from Settings > APIs and Identifiers of this workspace, and check the endpoint " +
	"matches the dashboard you log into (" + dashboardExamples("US-01", "EU-01", "US-10") +
	"; table in docs/troubleshooting.md#which-rest-host): a key of another instance gets 401"

// dashboardExamples renders "dashboard -> REST host" for the named instances.
func dashboardExamples(names ...string) string {
	var parts []string
	for _, in := range brazeapi.Instances() {
		if slices.Contains(names, in.Name) && in.Dashboard != "" {
			parts = append(parts, in.Dashboard+" -> "+in.REST)
		}
	}
	return strings.Join(parts, ", ")
}

// checkBraze runs the destination's network checks: endpoint, key, test user, export attribute.
func checkBraze(ctx context.Context, r *Result, opts Options, name string, ds *destination.Spec) {
	u, ok := checkEndpoint(r, name, ds)
	if !ok {
		r.add(Skip, name+": api key", "not tried: the endpoint is refused", "")
		r.add(Skip, name+": users.track", "not tried: the endpoint is refused", "")
		return
	}
	if !checkKey(ctx, r, opts, name, ds, u) {
		return
	}
	b := newBrazeReader(opts, u, ds.APIKey)
	if opts.TestUser != "" {
		checkTestUser(ctx, r, opts, b, name, ds)
	}
	if *ds.ExportAttribute != "" {
		checkExportAttribute(ctx, r, opts, b, name, *ds.ExportAttribute)
	}
}

func checkEndpoint(r *Result, name string, ds *destination.Spec) (*url.URL, bool) {
	line := name + ": endpoint"
	e, err := brazeapi.EndpointPolicy{AllowCustom: ds.AllowCustomEndpoint}.Check(ds.Endpoint)
	if err != nil {
		r.add(Fail, line, err.Error(), "set endpoint to your instance's REST host over https, e.g. https://rest.iad-01.braze.com "+
			"(the list is in docs/troubleshooting.md; dashboard and sdk.* hosts are not REST hosts)")
		return nil, false
	}
	u := e.URL
	switch e.Kind {
	case brazeapi.Published:
		r.add(Pass, line, fmt.Sprintf("%s is Braze instance %s, over https", u.Host, e.Instance.Name), "")
	case brazeapi.Loopback:
		r.add(Pass, line, fmt.Sprintf("%s is loopback (a local emulator), over %s", u.Host, u.Scheme), "")
	default:
		r.add(Warn, line, fmt.Sprintf("%s is not a published Braze REST host; allow_custom_endpoint sends the key there", u.Host),
			"use a published REST host unless this is a proxy you control")
	}
	return u, true
}

// dashboardOf names an instance's dashboard, where Braze publishes one.
func dashboardOf(in brazeapi.Instance) string {
	if in.Dashboard == "" {
		return ""
	}
	return ", dashboard " + in.Dashboard
}

// checkKey sends the empty /users/track body; it reports whether the key may be used further.
func checkKey(ctx context.Context, r *Result, opts Options, name string, ds *destination.Spec, u *url.URL) bool {
	c, err := brazeapi.New(brazeapi.Options{Endpoint: u.String(), AllowCustomEndpoint: ds.AllowCustomEndpoint,
		APIKey: ds.APIKey, RateLimit: -1, Timeout: 20 * time.Second, UserAgent: "brazesync-check", HTTPClient: opts.HTTPClient,
		Retry: brazeapi.RetryPolicy{MaxAttempts: 3, WaitMin: 200 * time.Millisecond, WaitMax: 2 * time.Second}})
	if err != nil {
		r.add(Fail, name+": api key", err.Error(), "set api_key: \"${BRAZE_API_KEY}\" and export the variable")
		r.add(Skip, name+": users.track", "not tried", "")
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	err = c.Preflight(ctx)
	host := u.Host
	switch {
	case err == nil:
		r.add(Pass, name+": api key", "Braze accepted the key (an empty /users/track was refused with 400, nothing written)", "")
		r.add(Pass, name+": users.track", "the key is allowed users.track", "")
		return true
	case errors.Is(err, brazeapi.ErrUnauthorized):
		detail := fmt.Sprintf("%s answered 401: the key is unknown there", host)
		if in, ok := brazeapi.InstanceOf(u.Hostname()); ok {
			detail = fmt.Sprintf("%s (instance %s%s) answered 401: the key is unknown there", host, in.Name, dashboardOf(in))
		}
		r.add(Fail, name+": api key", detail, regionHint)
		r.add(Skip, name+": users.track", "not tried: the key does not authenticate", "")
	case errors.Is(err, brazeapi.ErrForbidden):
		r.add(Pass, name+": api key", "Braze knows the key", "")
		r.add(Fail, name+": users.track", fmt.Sprintf("%s answered 403: the key is not allowed users.track", host),
			"in Settings > APIs and Identifiers, edit the key and tick the users.track permission (or create a key with it)")
	case errors.Is(err, brazeapi.ErrUnreachable):
		r.add(Fail, name+": api key", oneLine(err), "check the endpoint's host name and that this machine can reach it over https (proxy, firewall, DNS)")
		r.add(Skip, name+": users.track", "not tried: Braze is unreachable", "")
	default:
		r.add(Fail, name+": api key", oneLine(err), "check the endpoint is the REST host itself, without a path (e.g. https://rest.iad-01.braze.com)")
		r.add(Skip, name+": users.track", "not tried", "")
	}
	return false
}
