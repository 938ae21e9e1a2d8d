// Package schema maps Arrow columns to Braze /users/track attribute objects
// and converts values exactly. It is the hot path of the destination.
//
// NewMapping resolves, once per table, which column is the user key and
// which columns feed which attributes (see Mapping for the precedence
// rules); every problem found there names the column, before anything is
// sent. An Encoder then writes each row's members as JSON bytes straight
// from the typed Arrow buffers, with no reflection, maps or encoding/json.
//
// Value conversions (decisions where Braze's docs are silent are marked *):
//
//   - string, large_string, dictionary<string>: JSON strings; more than 255
//     characters (code points) is rejected or truncated per
//     Config.LongStrings; invalid UTF-8 rejects the row (never U+FFFD: no
//     value reaches Braze that the source does not hold).
//   - bool: true/false. int*/uint*: exact decimal JSON numbers (values past
//     2^53 are sent exactly; Braze may store them with less precision*).
//   - float16/32/64: shortest round-trip form; NaN and ±Inf are rejected.
//   - decimal128/256: exact JSON numbers with every digit the scale implies
//     (12.50 stays 12.50); never converted through float64.
//   - date32/date64*: ISO 8601 midnight UTC, "2024-01-02T00:00:00Z".
//   - timestamp (any unit, any zone): ISO 8601 UTC with Z; the fraction is
//     written, at the unit's width, only when non-zero*. Arrow stores UTC
//     instants, so the zone never changes the output; zone-less timestamps
//     are taken as UTC*. Dates outside years 0000–3000 are rejected, since
//     Braze would store them as strings*.
//   - time32/time64*: string "HH:MM:SS" (plus fraction when non-zero).
//   - list, large_list, fixed_size_list: JSON arrays. Null elements are
//     dropped and counted (RowResult.NullsDropped); top-level arrays of scalars are de-duplicated keeping the
//     first occurrence (Braze arrays are sets); dates inside arrays become
//     ISO strings* (Braze arrays cannot hold dates); lists of lists are
//     unsupported. Array length caps are left to Braze*.
//   - struct, map<string,…>: nested objects. Keys must be non-empty, ≤ 255
//     characters, without '.', '$' or space (struct field names are checked
//     at mapping time, map keys per row); null members are omitted and
//     counted: brazesync never sends _merge_objects, so an object replaces
//     the stored one and a null member means what an absent one does, while
//     Braze drops all nested updates of a request containing a null; dates
//     are {"$time": "..."}; over 100 KB is rejected.
//   - CloudQuery extensions: uuid as its 36-character text; json copied as
//     written in one pass (appendBrazeJSON), null members and elements left
//     out and counted (a top-level JSON null counts as null*); arrays must
//     hold only scalars or only objects, objects only valid and distinct
//     nested keys, strings ≤ 255 characters of valid UTF-8, numbers what a
//     64-bit float holds — anything else rejects the row rather than being
//     dropped by Braze without a word; inet as a string; mac as
//     "aa:bb:cc:dd:ee:ff".
//   - binary, large_binary, fixed_size_binary*: unsupported (an error at
//     NewMapping if such a column is mapped): Braze has no binary type and a
//     silent base64 would create meaningless strings. Cast in the query.
//   - durations, intervals, unions*: unsupported.
//   - nulls: omitted (Config.Nulls "skip") or sent as JSON null ("unset").
//
// Keys: a null, empty or whitespace-only key skips the row with a reason;
// a key that is not valid UTF-8, holds a control character (C0, DEL, C1)
// or is longer than MaxKeyChars rejects it (RejectInvalidKey); other keys
// are sent exactly as stored (no trimming*). Integer key columns are
// written as decimal text, uuid keys in canonical form.
//
// Rows a source could not read faithfully arrive marked in ColumnRejected
// and are rejected with the source's column and reason
// (RejectUnreadableRow) before anything else is looked at.
//
// Standard profile fields (names are case-sensitive) must come from columns
// of a fitting type and are checked per row; a bad value rejects the row
// naming the column:
//
//   - first_name, last_name, home_city, country, language, phone,
//     image_url: string columns, sent as strings (country/language are left
//     to Braze's own best-effort mapping*).
//   - email: syntax check (one @, dotted domain, no spaces)*.
//   - gender*: M, F, O, N, P, or (case-insensitive) male/man, female/woman,
//     other/non-binary, not applicable/n/a, prefer not to say.
//   - email_subscribe, push_subscribe: opted_in, subscribed, unsubscribed
//     (case-insensitive, sent lower-case); bool columns map true to
//     subscribed and false to unsubscribed*.
//   - dob: YYYY-MM-DD from a date, a timestamp (UTC date) or a string that
//     is already a real YYYY-MM-DD date.
//   - time_zone: must be a known IANA zone (checked with the embedded tz
//     database)*.
//   - email_open_tracking_disabled, email_click_tracking_disabled: bool.
//   - date_of_first_session, date_of_last_session, marked_email_as_spam_at:
//     date, timestamp or string.
//
// Attribute names must be non-empty, valid UTF-8, ≤ 255 characters and must
// not start with '$'; external_id, braze_id, user_alias, the configured key
// identifier, _update_existing_only and _merge_objects cannot be mapped.
package schema
