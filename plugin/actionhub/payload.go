package actionhub

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
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
	apiKey      string
	endpoint    string // cleaned: scheme://host[:port], no trailing slash
	userKey     string // external_id or braze_id
	exportLabel string
	downloadURL string
	attachment  *attachment
	title       string
	planID      string
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
	ep, err := allowed.clean(raw)
	if err != nil {
		return nil, fail("Bad Endpoint: %v.", err)
	}
	r.endpoint = ep
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
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(errs))
	for _, k := range []string{formKey, formSegment} {
		if m, ok := errs[k]; ok {
			msgs = append(msgs, m)
		}
	}
	return &failure{message: strings.Join(msgs, " "), validation: errs}
}

// brazeRESTHost matches Braze's published REST hosts, e.g.
// rest.iad-01.braze.com or rest.fra-02.braze.eu, anchored (the stock regex
// was not, so https://attacker.example/x.braze.com passed).
var brazeRESTHost = regexp.MustCompile(`^rest\.[a-z0-9-]+\.braze\.(com|eu)$`)

// endpointPolicy decides which Braze endpoints the hub will send a key to.
type endpointPolicy struct {
	// extraHosts are host[:port] values accepted besides Braze's REST hosts,
	// over http or https (e.g. a Braze emulator or a proxy).
	extraHosts map[string]bool
}

// clean normalises an endpoint the admin typed: surrounding space and a
// trailing slash are removed before checking (the stock action checked the
// raw text and refused them), a port is allowed, and the host must be a
// Braze REST host or explicitly allowed.
func (p endpointPolicy) clean(raw string) (string, error) {
	s := strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", errors.New("not a URL such as https://rest.iad-01.braze.com")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", errors.New("the endpoint must be a bare origin such as https://rest.iad-01.braze.com")
	}
	host := strings.ToLower(u.Hostname())
	if p.extraHosts[strings.ToLower(u.Host)] {
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", errors.New("scheme must be https")
		}
		return u.Scheme + "://" + strings.ToLower(u.Host), nil
	}
	if strings.ToLower(u.Scheme) != "https" {
		return "", errors.New("Braze endpoints must use https")
	}
	if !brazeRESTHost.MatchString(host) {
		return "", fmt.Errorf("%s is not a Braze REST host (rest.<instance>.braze.com or .eu)", host)
	}
	if port := u.Port(); port != "" && port != "443" {
		return "", errors.New("Braze REST endpoints listen on port 443")
	}
	return "https://" + host, nil
}
