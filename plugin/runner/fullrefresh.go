package runner

// fullRefresh makes every destination send everything this run (`brazesync sync --full-refresh`):
// the flag reaches the plugin as its spec's full_refresh field, the way `cloudquery sync` users
// set it in the spec themselves.
func (s *Spec) fullRefresh() {
	for _, d := range s.Destinations {
		if d.Spec == nil {
			d.Spec = map[string]any{}
		}
		d.Spec["full_refresh"] = true
	}
}
