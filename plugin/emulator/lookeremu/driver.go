package lookeremu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// HubClient calls an action hub the way Looker does: POST with a JSON body,
// `Authorization: Token token="…"` and a LookerOutgoingWebhook user agent.
type HubClient struct {
	URL           string // the Action Hub URL (list endpoint)
	Token         string // what the admin pasted: nonce/hmac
	LookerVersion string // default 24.6.0
	HTTP          *http.Client
}

// ActionDefinition is the subset of a listed integration Looker reads.
type ActionDefinition struct {
	Name                     string           `json:"name"`
	Label                    string           `json:"label"`
	Description              string           `json:"description"`
	URL                      string           `json:"url"`
	FormURL                  *string          `json:"form_url"`
	Params                   []map[string]any `json:"params"`
	RequiredFields           []map[string]any `json:"required_fields"`
	SupportedActionTypes     []string         `json:"supported_action_types"`
	SupportedFormats         []string         `json:"supported_formats"`
	SupportedFormattings     []string         `json:"supported_formattings"`
	SupportedVisFormattings  []string         `json:"supported_visualization_formattings"`
	SupportedDownloadSetting []string         `json:"supported_download_settings"`
	UsesOAuth                bool             `json:"uses_oauth"`
}

// ListResponse is the hub's answer to the list call.
type ListResponse struct {
	Label        string             `json:"label"`
	Integrations []ActionDefinition `json:"integrations"`
}

// Attachment is an inline ("push") result.
type Attachment struct {
	Mimetype  string `json:"mimetype"`
	Extension string `json:"extension"`
	Data      any    `json:"data"`
}

// ScheduledPlan is the scheduled_plan object of an execute payload.
type ScheduledPlan struct {
	ScheduledPlanID int    `json:"scheduled_plan_id"`
	Title           string `json:"title"`
	Type            string `json:"type"`
	URL             string `json:"url"`
	QueryID         int    `json:"query_id"`
	Query           *Query `json:"query,omitempty"`
	DownloadURL     string `json:"download_url,omitempty"`
}

// ExecutePayload is what Looker POSTs to an action's url.
type ExecutePayload struct {
	Type          string            `json:"type"`
	ScheduledPlan *ScheduledPlan    `json:"scheduled_plan,omitempty"`
	Attachment    *Attachment       `json:"attachment"`
	Data          map[string]string `json:"data"`
	FormParams    map[string]string `json:"form_params"`
}

// ActionResult is the hub's execute (or form) answer as Looker sees it.
type ActionResult struct {
	Status     int // HTTP status
	KeepAlives int // newlines received before the JSON
	Success    bool
	Message    string
	// ValidationErrors maps form field → message.
	ValidationErrors map[string]string
	Body             []byte // the JSON document, keep-alives removed
}

// Form field returned by a hub form call.
type FormField struct {
	Name        string              `json:"name"`
	Label       string              `json:"label"`
	Description string              `json:"description"`
	Type        string              `json:"type"`
	Default     string              `json:"default"`
	Required    bool                `json:"required"`
	Options     []map[string]string `json:"options"`
}

// FormResponse is a hub's answer to a form call.
type FormResponse struct {
	Fields []FormField `json:"fields"`
	Error  string      `json:"error"`
}

func (h *HubClient) post(ctx context.Context, url string, body any) (*http.Response, error) {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return nil, err
		}
	}
	return h.postReader(ctx, url, &buf)
}

// postReader posts body as is; a body that is not a *bytes.Buffer goes out chunked, as Looker
// sends execute payloads.
func (h *HubClient) postReader(ctx context.Context, url string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	v := h.LookerVersion
	if v == "" {
		v = "24.6.0"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "LookerOutgoingWebhook/"+v)
	req.Header.Set("X-Looker-Instance", "emu-instance")
	req.Header.Set("X-Looker-Webhook-Id", randomHex(8))
	if h.Token != "" {
		req.Header.Set("Authorization", fmt.Sprintf("Token token=%q", h.Token))
	}
	client := h.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	return client.Do(req)
}

// readAnswer reads a body that may start with keep-alive newlines.
func readAnswer(resp *http.Response) ([]byte, int, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("reading hub answer: %w", err)
	}
	trimmed := bytes.TrimLeft(b, " \r\n\t")
	return trimmed, bytes.Count(b[:len(b)-len(trimmed)], []byte("\n")), nil
}

// List fetches the integrations (POST to the Action Hub URL).
func (h *HubClient) List(ctx context.Context) (*ListResponse, int, error) {
	resp, err := h.post(ctx, h.URL, nil)
	if err != nil {
		return nil, 0, err
	}
	b, _, err := readAnswer(resp)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	var out ListResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, resp.StatusCode, fmt.Errorf("decoding list: %w", err)
		}
	}
	return &out, resp.StatusCode, nil
}

// Form fetches an action's form, sending the admin params as Looker does.
func (h *HubClient) Form(ctx context.Context, def ActionDefinition, data, formParams map[string]string) (*FormResponse, int, error) {
	if def.FormURL == nil {
		return nil, 0, fmt.Errorf("action %s has no form", def.Name)
	}
	resp, err := h.post(ctx, *def.FormURL, map[string]any{"data": data, "form_params": formParams})
	if err != nil {
		return nil, 0, err
	}
	b, _, err := readAnswer(resp)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	var out FormResponse
	_ = json.Unmarshal(b, &out)
	return &out, resp.StatusCode, nil
}

// Execute posts a payload to an action's url and decodes the answer.
func (h *HubClient) Execute(ctx context.Context, def ActionDefinition, p ExecutePayload) (*ActionResult, error) {
	resp, err := h.post(ctx, def.URL, p)
	if err != nil {
		return nil, err
	}
	return executeAnswer(resp)
}

// ExecuteBody posts a raw execute body streamed from r (say, one too large to hold in memory) and
// decodes the answer.
func (h *HubClient) ExecuteBody(ctx context.Context, def ActionDefinition, r io.Reader) (*ActionResult, error) {
	resp, err := h.postReader(ctx, def.URL, r)
	if err != nil {
		return nil, err
	}
	return executeAnswer(resp)
}

func executeAnswer(resp *http.Response) (*ActionResult, error) {
	b, n, err := readAnswer(resp)
	if err != nil {
		return nil, err
	}
	res := &ActionResult{Status: resp.StatusCode, KeepAlives: n, Body: b}
	var out struct {
		Looker *struct {
			Success          bool              `json:"success"`
			Message          string            `json:"message"`
			ValidationErrors map[string]string `json:"validation_errors"`
		} `json:"looker"`
		Success *bool  `json:"success"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return res, fmt.Errorf("decoding execute answer: %w", err)
	}
	switch {
	case out.Looker != nil:
		res.Success, res.Message, res.ValidationErrors = out.Looker.Success, out.Looker.Message, out.Looker.ValidationErrors
	case out.Success != nil:
		res.Success, res.Message = *out.Success, out.Error
	}
	return res, nil
}

// Action finds a listed integration by name.
func (l *ListResponse) Action(name string) (ActionDefinition, bool) {
	for _, a := range l.Integrations {
		if a.Name == name {
			return a, true
		}
	}
	return ActionDefinition{}, false
}

// SendLook does what Looker does when a user sends a Look to an action with
// "url" delivery: it registers a one-time download_url for the Look's query
// (limit overridden when limit != "") and posts the execute payload.
func (s *Server) SendLook(ctx context.Context, hub *HubClient, def ActionDefinition, lookID int, limit string, data, formParams map[string]string) (*ActionResult, error) {
	l, ok := s.Look(lookID)
	if !ok {
		return nil, errNoLook
	}
	q := l.Query
	if limit != "" {
		q.Limit = limit
	}
	dl, err := s.DownloadURL(q)
	if err != nil {
		return nil, err
	}
	plan := &ScheduledPlan{ScheduledPlanID: 100 + l.ID, Title: l.Title, Type: "Look",
		URL: s.URL() + fmt.Sprintf("/looks/%d", l.ID), QueryID: 1000 + l.ID, Query: &q, DownloadURL: dl}
	return hub.Execute(ctx, def, ExecutePayload{Type: "query", ScheduledPlan: plan, Data: data, FormParams: formParams})
}

// JSONDetail renders a query's json_detail document in memory, for inline
// attachments in tests.
func (s *Server) JSONDetail(q Query) (string, error) {
	r, err := s.resolve(q)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := s.writeJSONDetail(&b, r); err != nil {
		return "", err
	}
	return b.String(), nil
}
