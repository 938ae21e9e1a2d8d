package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/schema"
)

// brazeReader makes the read-only Braze calls of a check. Like the destination's client, it sends
// the key only in the Authorization header, only to the endpoint already checked, and never follows
// a redirect.
type brazeReader struct {
	base *url.URL
	auth string
	http *http.Client
}

func newBrazeReader(opts Options, base *url.URL, key string) *brazeReader {
	hc := &http.Client{Timeout: 20 * time.Second}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &brazeReader{base: base, auth: "Bearer " + key, http: hc}
}

// do sends one request to a path of the endpoint and returns the status and (bounded) body.
func (b *brazeReader) do(ctx context.Context, method, pathAndQuery string, body any) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base.String()+pathAndQuery, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Authorization", b.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "brazesync-check")
	resp, err := b.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, strings.SplitN(pathAndQuery, "?", 2)[0], err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading answer: %w", err)
	}
	return resp.StatusCode, raw, resp.Header, nil
}

// exportRequest asks /users/export/ids for one user, identified as the destination's user_key says.
func exportRequest(ds *destination.Spec, id string) map[string]any {
	req := map[string]any{"fields_to_export": []string{"external_id", "braze_id"}}
	switch ds.UserKey {
	case schema.UserKeyBrazeID:
		req["braze_id"] = id
	case schema.UserKeyEmail:
		req["email_address"] = id
	case schema.UserKeyPhone:
		req["phone"] = id
	case schema.UserKeyUserAlias:
		req["user_aliases"] = []map[string]string{{"alias_name": id, "alias_label": ds.AliasLabel}}
	default:
		req["external_ids"] = []string{id}
	}
	return req
}

// checkTestUser looks the named user up with /users/export/ids (permission users.export.ids).
func checkTestUser(ctx context.Context, r *Result, opts Options, b *brazeReader, name string, ds *destination.Spec) {
	line := name + ": test user"
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	status, raw, _, err := b.do(ctx, http.MethodPost, "/users/export/ids", exportRequest(ds, opts.TestUser))
	if err != nil {
		r.add(Warn, line, "could not check: "+oneLine(err), "retry; the check needs /users/export/ids to answer")
		return
	}
	switch status {
	case http.StatusOK, http.StatusCreated:
	case http.StatusForbidden:
		r.add(Warn, line, "could not check: the key is not allowed users.export.ids",
			"give the key the users.export.ids permission, or drop --test-user")
		return
	default:
		r.add(Warn, line, fmt.Sprintf("could not check: /users/export/ids answered %d", status), "drop --test-user, or retry later")
		return
	}
	var ans struct {
		Users []map[string]any `json:"users"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		r.add(Warn, line, "could not check: /users/export/ids answered something that is not JSON", "retry later")
		return
	}
	if len(ans.Users) == 0 {
		r.add(Fail, line, fmt.Sprintf("no user with %s %q in this workspace", ds.UserKey, opts.TestUser),
			"check the id (ids are case-sensitive) and that the key belongs to the workspace holding the user; "+
				"with update_existing_only: true (the default) rows of unknown users are skipped by Braze")
		return
	}
	r.add(Pass, line, fmt.Sprintf("user with %s %q exists", ds.UserKey, opts.TestUser), "")
}

// customAttribute is one entry of GET /custom_attributes.
type customAttribute struct {
	Name     string `json:"name"`
	DataType string `json:"data_type"`
	Status   string `json:"status"`
}

// linkNext finds the rel="next" URL of a Link header.
var linkNext = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// maxAttributePages bounds the pages read (50 attributes each): the check is a hint, not an export.
const maxAttributePages = 40

// checkExportAttribute reads the export attribute's data type (permission custom_attributes.get):
// the flag is an array of strings, and Braze refuses to add to an attribute of another type.
func checkExportAttribute(ctx context.Context, r *Result, opts Options, b *brazeReader, name, attr string) {
	line := name + ": export attribute"
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	path := "/custom_attributes"
	for page := 0; page < maxAttributePages && path != ""; page++ {
		status, raw, hdr, err := b.do(ctx, http.MethodGet, path, nil)
		if err != nil || status != http.StatusOK {
			why := fmt.Sprintf("GET /custom_attributes answered %d", status)
			if err != nil {
				why = oneLine(err)
			}
			r.add(Warn, line, fmt.Sprintf("could not check %s's data type: %s", attr, why),
				fmt.Sprintf("give the key custom_attributes.get to check it, or make sure %s is an Array of strings "+
					"(Data Settings > Custom Attributes) or not defined yet", attr))
			return
		}
		var ans struct {
			Attributes []customAttribute `json:"attributes"`
		}
		if err := json.Unmarshal(raw, &ans); err != nil {
			r.add(Warn, line, "could not check: /custom_attributes answered something that is not JSON", "")
			return
		}
		for _, a := range ans.Attributes {
			if a.Name == attr {
				reportAttributeType(r, line, a)
				return
			}
		}
		path = nextPage(b.base, hdr.Get("Link"))
	}
	r.add(Pass, line, fmt.Sprintf("%s is not defined yet: the first sync creates it as an array of strings", attr), "")
}

func reportAttributeType(r *Result, line string, a customAttribute) {
	switch {
	case strings.EqualFold(a.Status, "blocklisted"):
		r.add(Fail, line, fmt.Sprintf("%s is blocklisted in Braze: the flag would be dropped", a.Name),
			"unblocklist it in Data Settings > Custom Attributes, or set another export_attribute")
	case strings.EqualFold(a.DataType, "array"), strings.HasPrefix(strings.ToLower(a.DataType), "array"):
		r.add(Pass, line, fmt.Sprintf("%s is an Array attribute", a.Name), "")
	default:
		r.add(Fail, line, fmt.Sprintf("%s is a %s attribute in Braze, but the flag is an array of strings", a.Name, a.DataType),
			"set export_attribute to another name, or change the attribute's data type to Array in Data Settings > Custom Attributes")
	}
}

// nextPage returns the path and query of a Link rel="next" on the same scheme and host, else "":
// the key must not follow a link anywhere else.
func nextPage(base *url.URL, link string) string {
	m := linkNext.FindStringSubmatch(link)
	if m == nil {
		return ""
	}
	u, err := url.Parse(m[1])
	if err != nil || (u.Host != "" && (u.Host != base.Host || u.Scheme != base.Scheme)) {
		return ""
	}
	p := strings.TrimPrefix(u.Path, base.Path)
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}
