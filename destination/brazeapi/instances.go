package brazeapi

import (
	"slices"
	"strings"
)

// Instance is one Braze instance ("cluster"): the name Braze gives it, its REST API host and the
// host of the dashboard its users log into. A key belongs to one instance and is unknown (401) on
// every other, so the dashboard a user sees is the quickest way to the right REST host.
type Instance struct {
	Name      string // e.g. "US-01"
	REST      string // REST API host, e.g. "rest.iad-01.braze.com"
	Dashboard string // dashboard host, e.g. "dashboard-01.braze.com"; "" where Braze publishes none
}

// instances is the one table of Braze's published instances (docs/braze-api.md §6),
// in Braze's order. The endpoint policy, the check command's hints and the docs all read it. There is
// no US-09, and no US-11 in any Braze page: an unpublished rest.*.braze.com host needs an explicit
// allowance like any other custom host.
var instances = []Instance{
	{"US-01", "rest.iad-01.braze.com", "dashboard-01.braze.com"},
	{"US-02", "rest.iad-02.braze.com", "dashboard-02.braze.com"},
	{"US-03", "rest.iad-03.braze.com", "dashboard-03.braze.com"},
	{"US-04", "rest.iad-04.braze.com", "dashboard-04.braze.com"},
	{"US-05", "rest.iad-05.braze.com", "dashboard-05.braze.com"},
	{"US-06", "rest.iad-06.braze.com", "dashboard-06.braze.com"},
	{"US-07", "rest.iad-07.braze.com", "dashboard-07.braze.com"},
	{"US-08", "rest.iad-08.braze.com", "dashboard-08.braze.com"},
	{"US-10", "rest.us-10.braze.com", "dashboard.us-10.braze.com"},
	{"EU-01", "rest.fra-01.braze.eu", "dashboard-01.braze.eu"},
	{"EU-02", "rest.fra-02.braze.eu", "dashboard-02.braze.eu"},
	{"AU-01", "rest.au-01.braze.com", "dashboard.au-01.braze.com"},
	{"ID-01", "rest.id-01.braze.com", "dashboard.id-01.braze.com"},
	{"JP-01", "rest.jp-01.braze.com", ""},
	{"KR-01", "rest.kr-01.braze.com", ""},
}

// Instances returns Braze's published instances, in Braze's order.
func Instances() []Instance { return slices.Clone(instances) }

// InstanceOf returns the instance whose REST host is host (any case, no port).
func InstanceOf(host string) (Instance, bool) {
	return find(func(in Instance) bool { return strings.EqualFold(in.REST, host) })
}

// InstanceOfDashboard returns the instance whose dashboard host is host: someone who pasted the
// dashboard URL as the endpoint is told the REST host instead.
func InstanceOfDashboard(host string) (Instance, bool) {
	return find(func(in Instance) bool { return in.Dashboard != "" && strings.EqualFold(in.Dashboard, host) })
}

func find(match func(Instance) bool) (Instance, bool) {
	if i := slices.IndexFunc(instances, match); i >= 0 {
		return instances[i], true
	}
	return Instance{}, false
}
