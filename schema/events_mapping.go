package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

// eventRole is a member of an event or purchase object that a column can supply.
type eventRole int

const (
	roleName eventRole = iota
	roleTime
	roleID
	roleAppID
	roleProperties
	roleProductID
	roleCurrency
	rolePrice
	roleQuantity
	nRoles
)

// roleInfo names each role's member (as ColumnMapping.Attribute), its setting and its tag.
var roleInfo = [nRoles]struct{ member, setting, tag string }{
	roleName:       {"name", "name_column", TagEventName},
	roleTime:       {"time", "time_column", TagTime},
	roleID:         {"identity", "id_column", TagEventID},
	roleAppID:      {"app_id", "app_id_column", TagAppID},
	roleProperties: {"properties", "properties_column", TagProperties},
	roleProductID:  {"product_id", "product_id_column", TagProductID},
	roleCurrency:   {"currency", "currency_column", TagCurrency},
	rolePrice:      {"price", "price_column", TagPrice},
	roleQuantity:   {"quantity", "quantity_column", TagQuantity},
}

// kindRoles are the roles of each kind, in the order their members are written.
var kindRoles = map[string][]eventRole{
	KindEvents:    {roleAppID, roleName, roleTime, roleProperties, roleID},
	KindPurchases: {roleAppID, roleProductID, roleCurrency, rolePrice, roleQuantity, roleTime, roleProperties, roleID},
}

// EventMapping is the resolved mapping of one table to events or purchases. Resolve it once per
// schema with NewEventMapping and encode rows with an EventEncoder.
//
// Each member comes, highest precedence first, from the table's settings (name, name_column, …),
// from a column tag (braze_event, braze_time, …), or from a column named like the tag; two columns
// at the same level is an error naming both. The key column follows the attribute rules (Mapping),
// with the table's key_column first. Properties are the settings' properties map when it is set,
// else every column tagged (or named) braze[property], plus the members of the properties column.
type EventMapping struct {
	kind      string
	base      *Mapping       // the key column and the source's rejected rows; no attributes
	cols      [nRoles]int    // column of each role, or -1
	sources   [nRoles]string // where each role's column came from
	nameConst string         // the event name when no column holds it
	appConst  string
	curConst  string // upper-case
	props     []propField
	columns   []ColumnMapping
}

// propField is one property from a column, and where its mapping came from.
type propField struct {
	col    int
	name   string
	source string
}

// NewEventMapping resolves how the columns of sc become events or purchases: cfg holds the key and
// value settings shared with attribute tables, ev the table's own. The kind is TableKind's, and
// must not be attributes. Every problem names the setting or the column, before anything is sent.
func NewEventMapping(sc *arrow.Schema, cfg Config, ev EventConfig) (*EventMapping, error) {
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("invalid table settings: %w", err)
	}
	kind, err := TableKind(sc, ev)
	if err != nil {
		return nil, err
	}
	if kind == KindAttributes {
		return nil, fmt.Errorf("the table's rows are attributes, not events or purchases: use NewMapping")
	}
	if ev.KeyColumn != "" {
		cfg.KeyColumn = ev.KeyColumn
	}
	cfg.Attributes = nil
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid mapping config: %w", err)
	}
	m := &EventMapping{kind: kind, appConst: ev.AppID, curConst: strings.ToUpper(ev.Currency)}
	for i := range m.cols {
		m.cols[i] = -1
	}
	r, err := m.resolveKey(sc, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.resolveRoles(r, ev); err != nil {
		return nil, err
	}
	if err := m.resolveProperties(r, ev.Properties); err != nil {
		return nil, err
	}
	if err := m.checkTypes(); err != nil {
		return nil, err
	}
	m.describe(r)
	return m, nil
}

// resolveKey finds the key column exactly as an attribute table does.
func (m *EventMapping) resolveKey(sc *arrow.Schema, cfg Config) (*resolver, error) {
	m.base = &Mapping{schema: sc, cfg: cfg, keyCol: -1, rejectCol: -1, keyName: cfg.UserKey}
	if err := m.base.findRejectColumn(); err != nil {
		return nil, err
	}
	r := &resolver{m: m.base, sc: sc, entries: make([][]ColumnMapping, sc.NumFields())}
	if err := r.resolveKey(); err != nil {
		return nil, keyError{err}
	}
	kf := sc.Field(m.base.keyCol)
	if _, err := newKeyReader(kf.Type); err != nil {
		return nil, fmt.Errorf("key column %q: %w", kf.Name, err)
	}
	return r, nil
}

// resolveRoles finds the column of every role of the kind, and the constants.
func (m *EventMapping) resolveRoles(r *resolver, ev EventConfig) error {
	spec := [nRoles]string{roleName: ev.NameColumn, roleTime: ev.TimeColumn, roleID: ev.IDColumn,
		roleAppID: ev.AppIDColumn, roleProperties: ev.PropertiesColumn, roleProductID: ev.ProductIDColumn,
		roleCurrency: ev.CurrencyColumn, rolePrice: ev.PriceColumn, roleQuantity: ev.QuantityColumn}
	constant := [nRoles]bool{roleName: ev.Name != "", roleAppID: ev.AppID != "", roleCurrency: ev.Currency != ""}
	for _, role := range kindRoles[m.kind] {
		if role == roleName {
			continue // a constant may come from a tag: resolveName
		}
		if constant[role] {
			continue // the setting's constant wins over any column
		}
		col, source, err := r.findRole(role, spec[role])
		if err != nil {
			return err
		}
		m.cols[role], m.sources[role] = col, source
	}
	if m.kind == KindEvents {
		if err := m.resolveName(r, ev); err != nil {
			return err
		}
	}
	return m.checkRequired()
}

// findRole looks for the column of one role: the setting, else its tag, else its name.
func (r *resolver) findRole(role eventRole, setting string) (int, string, error) {
	info := roleInfo[role]
	if setting != "" {
		col, err := r.findColumn(info.setting, setting)
		return col, SourceSpec, err
	}
	tagged := r.matching(func(i int) bool { return hasTag(r.sc.Field(i), info.tag) })
	named := r.matching(func(i int) bool { return r.name(i) == info.tag })
	for _, level := range []struct {
		cols   []int
		source string
	}{{tagged, SourceTag}, {named, SourceName}} {
		switch len(level.cols) {
		case 0:
			continue
		case 1:
			return level.cols[0], level.source, nil
		}
		return -1, "", fmt.Errorf("two %s columns: %q and %q are both %s %s", info.member,
			r.name(level.cols[0]), r.name(level.cols[1]), map[string]string{SourceTag: "tagged", SourceName: "named"}[level.source], info.tag)
	}
	return -1, "", nil
}

// resolveName finds the event name: the setting's name or name_column, else a braze_event[NAME]
// tag or a braze_event tagged column, else the same forms as column names.
func (m *EventMapping) resolveName(r *resolver, ev EventConfig) error {
	if ev.Name != "" {
		m.nameConst = ev.Name
		return nil
	}
	if ev.NameColumn != "" {
		col, err := r.findColumn("name_column", ev.NameColumn)
		m.cols[roleName], m.sources[roleName] = col, SourceSpec
		return err
	}
	for _, level := range []struct {
		source string
		tags   func(f arrow.Field) []string
	}{{SourceTag, FieldTags}, {SourceName, func(f arrow.Field) []string { return []string{f.Name} }}} {
		var consts []string
		var cols []int
		for i, f := range r.sc.Fields() {
			if isInternalColumn(f.Name) {
				continue
			}
			for _, t := range level.tags(f) {
				if name, ok := parseEventConstTag(t); ok {
					consts = append(consts, name)
				} else if t == TagEventName {
					cols = append(cols, i)
				}
			}
		}
		if err := m.pickName(r, level.source, consts, cols); err != nil || m.nameConst != "" || m.cols[roleName] >= 0 {
			return err
		}
	}
	return nil
}

// pickName takes the event name found at one precedence level, refusing two.
func (m *EventMapping) pickName(r *resolver, source string, consts []string, cols []int) error {
	sort.Strings(consts)
	switch {
	case len(consts)+len(cols) == 0:
		return nil
	case len(cols) > 1:
		return fmt.Errorf("two event name columns: %q and %q are both %s %s", r.name(cols[0]), r.name(cols[1]), source, TagEventName)
	case len(consts) > 1 && consts[0] != consts[len(consts)-1]:
		return fmt.Errorf("two event names: %s[%s] and %s[%s]", TagEventName, consts[0], TagEventName, consts[len(consts)-1])
	case len(consts) > 0 && len(cols) > 0:
		return fmt.Errorf("both a constant event name (%s[%s]) and a name column (%q)", TagEventName, consts[0], r.name(cols[0]))
	case len(cols) == 1:
		m.cols[roleName], m.sources[roleName] = cols[0], source
		return nil
	}
	if reason := checkEventText(consts[0]); reason != "" {
		return fmt.Errorf("event name in tag %s[…]: %s", TagEventName, reason)
	}
	m.nameConst = consts[0]
	return nil
}

// checkRequired refuses a mapping that would send objects Braze rejects for a missing member.
func (m *EventMapping) checkRequired() error {
	if m.kind == KindEvents {
		if m.nameConst == "" && m.cols[roleName] < 0 {
			return fmt.Errorf("no event name: set name or name_column, or tag a column %s (or %s[NAME])", TagEventName, TagEventName)
		}
		return nil
	}
	var missing []string
	if m.cols[roleProductID] < 0 {
		missing = append(missing, fmt.Sprintf("product_id (set product_id_column or tag a column %s)", TagProductID))
	}
	if m.curConst == "" && m.cols[roleCurrency] < 0 {
		missing = append(missing, fmt.Sprintf("currency (set currency or currency_column, or tag a column %s)", TagCurrency))
	}
	if m.cols[rolePrice] < 0 {
		missing = append(missing, fmt.Sprintf("price (set price_column or tag a column %s)", TagPrice))
	}
	if len(missing) > 0 {
		return fmt.Errorf("purchases need %s", strings.Join(missing, ", "))
	}
	return nil
}

// resolveProperties maps property columns: the settings' map when set, else the braze[property]
// tags, then names (a tag wins over a name for the same property; two at one level is an error).
func (m *EventMapping) resolveProperties(r *resolver, spec map[string]string) error {
	if spec != nil {
		cols := make([]string, 0, len(spec))
		for c := range spec {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		seen := map[string]string{}
		for _, c := range cols {
			col, err := r.findColumn("properties", c)
			if err != nil {
				return err
			}
			name := spec[c]
			if prev, ok := seen[name]; ok {
				return fmt.Errorf("properties: columns %q and %q both map to property %q", prev, c, name)
			}
			seen[name] = c
			m.props = append(m.props, propField{col: col, name: name, source: SourceSpec})
		}
	} else if err := m.taggedProperties(r); err != nil {
		return err
	}
	sort.SliceStable(m.props, func(a, b int) bool { return m.props[a].col < m.props[b].col })
	return nil
}

func (m *EventMapping) taggedProperties(r *resolver) error {
	byName := map[string]claim{}
	for _, level := range []struct {
		source string
		tags   func(f arrow.Field) []string
	}{{SourceTag, FieldTags}, {SourceName, func(f arrow.Field) []string { return []string{f.Name} }}} {
		for i, f := range r.sc.Fields() {
			if isInternalColumn(f.Name) || (level.source == SourceName && hasAttrTag(f)) {
				continue
			}
			for _, t := range level.tags(f) {
				name, ok := parseAttrTag(t)
				if !ok {
					continue
				}
				if err := validatePropertyName(name); err != nil {
					return fmt.Errorf("column %q: %w", f.Name, err)
				}
				prev, taken := byName[name]
				switch {
				case taken && prev.source == level.source && prev.col != i:
					return fmt.Errorf("two columns for property %q: %q and %q", name, r.name(prev.col), f.Name)
				case taken:
					continue // the same tag twice, or a name below a tag
				}
				byName[name] = claim{col: i, source: level.source}
				m.props = append(m.props, propField{col: i, name: name, source: level.source})
			}
		}
	}
	return nil
}

// checkTypes refuses columns whose type cannot supply their member, naming the column.
func (m *EventMapping) checkTypes() error {
	for role := range nRoles {
		col := m.cols[role]
		if col < 0 {
			continue
		}
		f := m.base.schema.Field(col)
		if err := checkRoleType(eventRole(role), f.Type); err != nil {
			return fmt.Errorf("column %q (%s): %w", f.Name, roleInfo[role].member, err)
		}
	}
	for _, p := range m.props {
		f := m.base.schema.Field(p.col)
		if err := checkPropertyType(f.Type); err != nil {
			return fmt.Errorf("column %q (property %q): %w", f.Name, p.name, err)
		}
	}
	return nil
}

func checkRoleType(role eventRole, dt arrow.DataType) error {
	switch role {
	case roleName, roleAppID, roleCurrency:
		if _, err := newStringSource(dt); err != nil {
			return fmt.Errorf("type %s is not a string", dt)
		}
	case roleID, roleProductID:
		if _, err := newKeyReader(dt); err != nil {
			return fmt.Errorf("type %s: it must be a string, integer or uuid column", dt)
		}
	case roleTime:
		switch dt.ID() {
		case arrow.TIMESTAMP, arrow.DATE32, arrow.DATE64:
		default:
			return fmt.Errorf("type %s is not a timestamp or date (cast it in the query, e.g. TO_TIMESTAMP)", dt)
		}
	case rolePrice:
		if !isNumberType(dt) {
			return fmt.Errorf("type %s is not a number", dt)
		}
	case roleQuantity:
		if _, err := newIntReader(dt); err != nil {
			return err
		}
	case roleProperties:
		if _, ok := dt.(*types.JSONType); !ok {
			return fmt.Errorf("type %s is not JSON (a Snowflake VARIANT or OBJECT holding an object)", dt)
		}
	}
	return nil
}

func isNumberType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128, arrow.DECIMAL256:
		return true
	}
	return false
}

// checkPropertyType accepts what the attribute writers accept, except dates inside nested objects:
// Braze takes datetimes only as property values, and the {"$time": …} form of nested attributes is
// not documented for properties.
func checkPropertyType(dt arrow.DataType) error {
	if _, err := newWriter(dt, writerOpts{place: placeArray, nulls: new(int)}); err != nil {
		return err
	}
	if nestedDate(dt, false) {
		return fmt.Errorf("type %s holds a date inside a nested object, which Braze does not take in properties (cast it to a string in the query)", dt)
	}
	return nil
}

// nestedDate reports a date or timestamp inside a struct or map (inObject: dt is inside one).
func nestedDate(dt arrow.DataType, inObject bool) bool {
	switch t := dt.(type) {
	case *arrow.Date32Type, *arrow.Date64Type, *arrow.TimestampType:
		return inObject
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if nestedDate(f.Type, true) {
				return true
			}
		}
	case *arrow.MapType:
		return nestedDate(t.ItemType(), true)
	case arrow.ListLikeType:
		return nestedDate(t.Elem(), inObject)
	case *arrow.DictionaryType:
		return nestedDate(t.ValueType, inObject)
	}
	return false
}

// describe records what every column does, in schema order, for `brazesync check`.
func (m *EventMapping) describe(r *resolver) {
	sc := m.base.schema
	entries := make([][]ColumnMapping, sc.NumFields())
	entries[m.base.keyCol] = append(entries[m.base.keyCol], ColumnMapping{Column: sc.Field(m.base.keyCol).Name,
		Attribute: m.base.keyName, Source: r.entries[m.base.keyCol][0].Source, Key: true})
	for _, role := range kindRoles[m.kind] {
		if col := m.cols[role]; col >= 0 {
			entries[col] = append(entries[col], ColumnMapping{Column: sc.Field(col).Name, Attribute: roleInfo[role].member, Source: m.sources[role]})
		}
	}
	for _, p := range m.props {
		entries[p.col] = append(entries[p.col], ColumnMapping{Column: sc.Field(p.col).Name, Attribute: "properties." + p.name, Source: p.source})
	}
	for i, f := range sc.Fields() {
		es := entries[i]
		if len(es) == 0 {
			reason := "no braze tag"
			switch {
			case i == m.base.rejectCol:
				reason = "rows the source could not read (dead-lettered)"
			case isInternalColumn(f.Name):
				reason = "_cq_ internal column"
			}
			es = []ColumnMapping{{Column: f.Name, Ignored: reason}}
		}
		m.columns = append(m.columns, es...)
	}
}

// Kind is KindEvents or KindPurchases.
func (m *EventMapping) Kind() string { return m.kind }

// KeyColumn returns the name of the user key column.
func (m *EventMapping) KeyColumn() string { return m.base.KeyColumn() }

// UserKey returns the identifier the key column holds (external_id, …).
func (m *EventMapping) UserKey() string { return m.base.keyName }

// Schema returns the schema the mapping was resolved for.
func (m *EventMapping) Schema() *arrow.Schema { return m.base.schema }

// Columns describes every column of the schema, in schema order: the key, each member (name,
// time, identity, app_id, product_id, currency, price, quantity, properties) and each property
// (properties.NAME).
func (m *EventMapping) Columns() []ColumnMapping { return append([]ColumnMapping(nil), m.columns...) }

// Properties returns the property names from columns, in output order.
func (m *EventMapping) Properties() []string {
	out := make([]string, len(m.props))
	for i, p := range m.props {
		out[i] = p.name
	}
	return out
}

// HasIDColumn reports whether identities come from a declared column rather than a hash.
func (m *EventMapping) HasIDColumn() bool { return m.cols[roleID] >= 0 }

// HasTimeColumn reports whether rows carry their own time (else all take the sync's start).
func (m *EventMapping) HasTimeColumn() bool { return m.cols[roleTime] >= 0 }
