package actionhub

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/brazesync/brazesync/destination/brazeapi"
)

// executePayload is the part of Looker's execute body the hub reads.
type executePayload struct {
	Type          *string           `json:"type"`
	ScheduledPlan *scheduledPlan    `json:"scheduled_plan"`
	Attachment    *attachment       `json:"attachment"`
	Data          map[string]string `json:"data"`
	FormParams    map[string]string `json:"form_params"`
}

type scheduledPlan struct {
	ScheduledPlanID json.Number `json:"scheduled_plan_id"`
	Title           string      `json:"title"`
	Type            string      `json:"type"`
	URL             string      `json:"url"`
	DownloadURL     string      `json:"download_url"`
}

// attachment carries inline ("push") results. Data may be a string (base64
// when the mimetype ends in ;base64) or, unlike in the stock hub, a raw JSON
// document.
type attachment struct {
	Mimetype  string          `json:"mimetype"`
	Extension string          `json:"extension"`
	Data      json.RawMessage `json:"data"`
}

// reader returns the attachment's json_detail bytes.
func (a *attachment) reader() (io.Reader, error) {
	raw := bytes.TrimSpace(a.Data)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, errors.New("the attachment has no data")
	}
	if raw[0] != '"' {
		return bytes.NewReader(raw), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("decoding attachment data: %w", err)
	}
	if strings.HasSuffix(a.Mimetype, ";base64") {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("decoding base64 attachment: %w", err)
		}
		return bytes.NewReader(b), nil
	}
	return strings.NewReader(s), nil
}

// request is a validated execute request.
type request struct {
	apiKey   string
	endpoint string // cleaned by brazeapi.ParseEndpoint
	// customEndpoint: an --allow-endpoint-host host, not a published Braze one.
	customEndpoint bool
	userKey        string // external_id or braze_id
	exportLabel    string
	mirror         bool // remove the label from users no longer in the Look (mirror.go)
	downloadURL    string
	attachment     *attachment
	title          string
	planID         string
}

// failure is an execute answer with success:false.
type failure struct {
	message    string
	validation map[string]string
}

func (f *failure) Error() string { return f.message }

func fail(format string, args ...any) *failure {
	return &failure{message: fmt.Sprintf(format, args...)}
}

// validate applies the hub's and the action's checks, each with a message
// that says what to fix (the stock action threw strings and lost them).
func (p *executePayload) validate(allowed endpointPolicy) (*request, *failure) {
	if p.Type == nil || *p.Type == "" {
		return nil, fail(`No request type specified. The request must be of type: "query".`)
	}
	if *p.Type != "query" {
		return nil, fail(`This action does not support requests of type %q. The request must be of type: "query".`, *p.Type)
	}
	r := &request{apiKey: strings.TrimSpace(p.Data[paramAPIKey])}
	if r.apiKey == "" {
		return nil, fail("Required setting %q not specified in action settings.", labelAPIKey)
	}
	raw := p.Data[paramEndpoint]
	if strings.TrimSpace(raw) == "" {
		return nil, fail("Required setting %q not specified in action settings.", labelEndpoint)
	}
	ep, custom, err := allowed.clean(raw)
	if err != nil {
		return nil, fail("Bad Endpoint: %v.", err)
	}
	r.endpoint, r.customEndpoint = ep, custom
	if ff := r.readForm(p.FormParams); ff != nil {
		return nil, ff
	}
	if p.ScheduledPlan != nil {
		r.downloadURL = p.ScheduledPlan.DownloadURL
		r.title = p.ScheduledPlan.Title
		r.planID = p.ScheduledPlan.ScheduledPlanID.String()
	}
	if p.Attachment != nil && len(bytes.TrimSpace(p.Attachment.Data)) > 0 && string(bytes.TrimSpace(p.Attachment.Data)) != "null" {
		r.attachment = p.Attachment
	}
	if r.downloadURL == "" && r.attachment == nil {
		return nil, fail("A streaming action was sent incompatible data. The action must have a download url or an attachment.")
	}
	return r, nil
}

// maxLabelChars is Braze's limit on a string value (the label is one).
const maxLabelChars = 255

func (r *request) readForm(form map[string]string) *failure {
	errs := map[string]string{}
	r.userKey = strings.TrimSpace(form[formKey])
	switch r.userKey {
	case "external_id", "braze_id":
	case "":
		errs[formKey] = "Missing primary Braze key: choose external_id or braze_id."
	default:
		errs[formKey] = fmt.Sprintf("Unique Key must be external_id or braze_id, not %q.", r.userKey)
	}
	r.exportLabel = strings.TrimSpace(form[formSegment])
	if r.exportLabel == "" {
		r.exportLabel = defaultExportLabel
	}
	if n := utf8.RuneCountInString(r.exportLabel); n > maxLabelChars {
		errs[formSegment] = fmt.Sprintf("Export Label is %d characters; Braze stores at most %d.", n, maxLabelChars)
	}
	var bad string
	if r.mirror, bad = readMirror(form[formMirror]); bad != "" {
		errs[formMirror] = bad
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(errs))
	for _, k := range []string{formKey, formSegment, formMirror} {
		if m, ok := errs[k]; ok {
			msgs = append(msgs, m)
		}
	}
	return &failure{message: strings.Join(msgs, " "), validation: errs}
}

// endpointPolicy decides which Braze endpoints the hub sends a key to: brazeapi's policy, which
// every front door shares (the published REST hosts, loopback for the emulators, https everywhere
// else), with the hosts the hub's operator listed (--allow-endpoint-host, say a proxy) as extra
// hosts, sent the key as custom endpoints.
type endpointPolicy struct {
	policy brazeapi.EndpointPolicy
}

func newEndpointPolicy(hosts []string) endpointPolicy {
	return endpointPolicy{policy: brazeapi.EndpointPolicy{ExtraHosts: hosts}}
}

// clean checks an endpoint the admin typed and returns it normalised, and whether it is a custom
// (operator-listed) endpoint.
func (p endpointPolicy) clean(raw string) (endpoint string, custom bool, err error) {
	e, err := p.policy.Check(raw)
	if err != nil {
		return "", false, err
	}
	return e.URL.String(), e.Kind == brazeapi.Custom, nil
}

// CheckEndpoint is the hub's verdict on a Braze REST endpoint an admin entered in Looker: the
// endpoint the key would be sent to, or why it will not be. allowedHosts are the hub's
// --allow-endpoint-host values.
func CheckEndpoint(raw string, allowedHosts []string) (string, error) {
	ep, _, err := newEndpointPolicy(allowedHosts).clean(raw)
	return ep, err
}
