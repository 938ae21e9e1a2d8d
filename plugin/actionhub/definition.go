package actionhub

import (
	"strings"
)

// Names and defaults shared with the stock Braze action, so existing
// schedules keep working when an admin points Looker at this hub.
const (
	ActionName         = "braze"
	paramAPIKey        = "braze_api_key"
	paramEndpoint      = "braze_api_endpoint"
	formKey            = "braze_key"
	formSegment        = "braze_segment"
	formMirror         = "braze_mirror" // not in the stock form: mirror mode (mirror.go)
	defaultExportLabel = "LOOKER_EXPORT"
	idTag              = "braze_id"
	labelAPIKey        = "Braze API Key"
	labelEndpoint      = "Braze REST API Endpoint"
)

// liteStreamSince is the first Looker version that offers
// json_detail_lite_stream (the format that streams without limit).
var liteStreamSince = [3]int{6, 2, 0}

const iconDataURI = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxMCAxMCI+PGNpcmNsZSBjeD0iNSIgY3k9IjUiIHI9IjUiIGZpbGw9IiMwMDAiLz48L3N2Zz4="

type param struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Required    bool   `json:"required"`
	Sensitive   bool   `json:"sensitive"`
	Description string `json:"description"`
}

type definition struct {
	Description              string              `json:"description"`
	FormURL                  string              `json:"form_url"`
	Label                    string              `json:"label"`
	Name                     string              `json:"name"`
	Params                   []param             `json:"params"`
	RequiredFields           []map[string]string `json:"required_fields"`
	SupportedActionTypes     []string            `json:"supported_action_types"`
	UsesOAuth                bool                `json:"uses_oauth"`
	DelegateOAuth            bool                `json:"delegate_oauth"`
	SupportedFormats         []string            `json:"supported_formats"`
	SupportedFormattings     []string            `json:"supported_formattings"`
	SupportedVisFormattings  []string            `json:"supported_visualization_formattings"`
	SupportedDownloadSetting []string            `json:"supported_download_settings"`
	IconDataURI              string              `json:"icon_data_uri"`
	URL                      string              `json:"url"`
}

// brazeDefinition is the action as listed, with the stock params and tags.
func brazeDefinition(base, lookerVersion string) definition {
	formats := []string{"json_detail"}
	if versionAtLeast(lookerVersion, liteStreamSince) {
		formats = []string{"json_detail_lite_stream"}
	}
	return definition{
		Description: "Flags users from Looker to Braze via the REST API for use with segmentation. " +
			"Ensure there's a 'braze_id' field tagged in the results. All rows are sent (brazesync: no row cap).",
		FormURL: base + "/actions/" + ActionName + "/form",
		Label:   "Braze",
		Name:    ActionName,
		Params: []param{
			{Name: paramAPIKey, Label: labelAPIKey, Required: true, Sensitive: true,
				Description: "Braze API Key from https://dashboard.braze.com/app_settings/developer_console/ with users.track permission."},
			{Name: paramEndpoint, Label: labelEndpoint, Required: true, Sensitive: false,
				Description: "Braze REST API endpoint based on the instance location. See: https://www.braze.com/docs/developer_guide/rest_api/basics/#endpoints Example: https://rest.iad-01.braze.com"},
		},
		RequiredFields:           []map[string]string{{"tag": idTag}},
		SupportedActionTypes:     []string{"query"},
		SupportedFormats:         formats,
		SupportedFormattings:     []string{"unformatted"},
		SupportedVisFormattings:  []string{"noapply"},
		SupportedDownloadSetting: []string{"url"},
		IconDataURI:              iconDataURI,
		URL:                      base + "/actions/" + ActionName + "/execute",
	}
}

type formOption struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

type formField struct {
	Label       string       `json:"label"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Required    bool         `json:"required"`
	Options     []formOption `json:"options,omitempty"`
	Type        string       `json:"type"`
	Default     string       `json:"default"`
}

// brazeForm is the stock form (field names, options and defaults unchanged;
// the "Primay" typo fixed).
func brazeForm() map[string]any {
	return map[string]any{"fields": []formField{
		{Label: "Unique Key", Name: formKey, Description: "Primary key for user to map to within Braze.", Required: true,
			Options: []formOption{{Name: "external_id", Label: "external_id"}, {Name: "braze_id", Label: "braze_id"}},
			Type:    "select", Default: "external_id"},
		{Label: "Export Label", Name: formSegment,
			Description: "Name of export (Appends to Custom Attribute Array 'looker_export'). Defaults to 'LOOKER_EXPORT'.",
			Required:    true, Type: "string", Default: defaultExportLabel},
		mirrorField(),
	}}
}

// lookerVersion reads the version from `LookerOutgoingWebhook/<version>`.
func lookerVersion(userAgent string) string {
	_, v, ok := strings.Cut(userAgent, "LookerOutgoingWebhook/")
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}

// versionAtLeast compares a loose semver (7.3.00004561 → 7.3.4561).
func versionAtLeast(v string, min [3]int) bool {
	if v == "" {
		return false
	}
	var got [3]int
	for i, part := range strings.SplitN(v, ".", 3) {
		n := 0
		for _, c := range part {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		got[i] = n
	}
	for i := range got {
		if got[i] != min[i] {
			return got[i] > min[i]
		}
	}
	return true
}
