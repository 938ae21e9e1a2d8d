package brazeapi

import (
	"strings"
	"testing"
)

// TestEndpointPolicyKinds: why an endpoint is accepted, and its normal form.
func TestEndpointPolicyKinds(t *testing.T) {
	for _, tc := range []struct {
		policy   EndpointPolicy
		raw      string
		kind     EndpointKind
		url      string
		instance string
	}{
		{EndpointPolicy{}, "https://rest.kr-01.braze.com:443/", Published, "https://rest.kr-01.braze.com", "KR-01"},
		{EndpointPolicy{}, "REST.FRA-01.BRAZE.EU", Published, "https://rest.fra-01.braze.eu", "EU-01"},
		{EndpointPolicy{}, "https://localhost:8710", Loopback, "https://localhost:8710", ""},
		{EndpointPolicy{}, "http://127.0.0.2:9/prefix/", Loopback, "http://127.0.0.2:9/prefix", ""},
		{EndpointPolicy{AllowCustom: true}, "https://proxy.example.com/braze", Custom, "https://proxy.example.com/braze", ""},
		{EndpointPolicy{ExtraHosts: []string{"Proxy.Example.com"}}, "https://proxy.example.com", Custom, "https://proxy.example.com", ""},
		{EndpointPolicy{ExtraHosts: []string{"proxy.example.com:8443"}}, "https://proxy.example.com:8443", Custom, "https://proxy.example.com:8443", ""},
	} {
		e, err := tc.policy.Check(tc.raw)
		if err != nil {
			t.Errorf("%q: %v", tc.raw, err)
			continue
		}
		if e.Kind != tc.kind || e.URL.String() != tc.url || e.Instance.Name != tc.instance {
			t.Errorf("%q: kind %d, %s, instance %q; want kind %d, %s, instance %q",
				tc.raw, e.Kind, e.URL, e.Instance.Name, tc.kind, tc.url, tc.instance)
		}
	}
}

// TestEndpointPolicyRefusals: each refusal says what to fix, and never repeats a secret the raw
// text held.
func TestEndpointPolicyRefusals(t *testing.T) {
	for _, tc := range []struct {
		policy EndpointPolicy
		raw    string
		want   string
	}{
		{EndpointPolicy{}, "https://dashboard-01.braze.eu", "its REST host is rest.fra-01.braze.eu"},
		{EndpointPolicy{}, "https://sdk.iad-03.braze.com", "SDK host of US-03; its REST host is rest.iad-03.braze.com"},
		{EndpointPolicy{}, "https://rest.us-11.braze.com", "allow_custom_endpoint"},
		{EndpointPolicy{}, "https://rest.iad-01.braze.com:8443", "port 443"},
		{EndpointPolicy{}, "https://rest.iad-01.braze.com/users/track", "use the REST host itself"},
		{EndpointPolicy{}, "ftp://rest.iad-01.braze.com", "not https"},
		{EndpointPolicy{}, "https://", "no host"},
		{EndpointPolicy{ExtraHosts: []string{"proxy.example.com:8443"}}, "https://proxy.example.com", "not a Braze REST host"},
		{EndpointPolicy{ExtraHosts: []string{"proxy.example.com"}}, "http://proxy.example.com", "must use https"},
		{EndpointPolicy{}, "https://admin:s3cret-pw@rest.iad-01.braze.com", "credentials"},
		{EndpointPolicy{}, "https://rest.iad-01.braze.com/?api_key=s3cret-pw", "query"},
		{EndpointPolicy{}, "https://rest.iad-01.braze.com/#s3cret-pw", "fragment"},
		{EndpointPolicy{}, "https://rest.iad-01.braze.com/\x7fs3cret-pw", "not a URL"},
	} {
		_, err := tc.policy.Check(tc.raw)
		if err == nil {
			t.Errorf("%q: accepted", tc.raw)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want it to say %q", tc.raw, err, tc.want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error repeats a secret: %v", tc.raw, err)
		}
	}
}

// TestInstancesAreDistinct: every instance has its own name, REST host and dashboard, so a lookup
// by any of them is unambiguous.
func TestInstancesAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, in := range Instances() {
		for _, v := range []string{in.Name, in.REST, in.Dashboard} {
			if v != "" && seen[v] {
				t.Errorf("%s appears twice", v)
			}
			seen[v] = true
		}
		if got, ok := InstanceOf(strings.ToUpper(in.REST)); !ok || got != in {
			t.Errorf("InstanceOf(%s) = %v, %v", in.REST, got, ok)
		}
	}
}
