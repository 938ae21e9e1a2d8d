package state

import (
	"encoding/binary"
	"errors"
)

// The embedded store's keys. Every key starts with a one-byte kind, so the kinds never interleave:
//
//	m format           the folder's formatVersion (uvarint)
//	m version          the store's version (uvarint)
//	n <ns id>          one namespace's description (JSON nsMeta)
//	u <ns id> <key>    one user's record (encodeRecord)
//
// <ns id> is 4 bytes big-endian, so a namespace's users are one contiguous key range.
const (
	kindMeta      = 'm'
	kindNamespace = 'n'
	kindUser      = 'u'
)

var (
	keyFormat  = []byte("m format")
	keyVersion = []byte("m version")
)

func nsKey(id uint32) []byte { return binary.BigEndian.AppendUint32([]byte{kindNamespace}, id) }

// userPrefix is the first key of namespace id's users; userPrefix(id+1) is past the last.
func userPrefix(dst []byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32(append(dst[:0], kindUser), id)
}

// recordTag opens every record value: the record layout, so that a later layout can be read
// alongside this one.
const recordTag = 1

const flagFlagged = 1

var errBadRecord = errors.New("malformed record")

// rawAttr is an Attr as stored: the name is an index into the namespace's attribute names.
type rawAttr struct {
	id     uint32
	hash   Hash
	sentAt int64
}

// raw is a record as stored.
type raw struct {
	flagged   bool
	flaggedAt int64
	ordinal   uint64 // dense per namespace: the user's bit in the seen set
	version   uint64
	attrs     []rawAttr
}

// encodeRecord appends r's value:
//
//	byte     recordTag
//	uvarint  flags (1: flagged)
//	uvarint  ordinal
//	uvarint  version
//	uvarint  base: the latest of the times below, Unix seconds
//	uvarint  base - flaggedAt (only when flagged)
//	uvarint  number of attributes, then per attribute:
//	         uvarint name id, 8 bytes hash, uvarint base - sentAt
//
// Times are stored relative to the latest one, so that a record sent in one request spends one
// byte per attribute on its time.
func encodeRecord(dst []byte, r *raw) []byte {
	base := r.flaggedAt
	for i := range r.attrs {
		base = max(base, r.attrs[i].sentAt)
	}
	base = max(base, 0)
	var flags uint64
	if r.flagged {
		flags |= flagFlagged
	}
	dst = append(dst, recordTag)
	dst = binary.AppendUvarint(dst, flags)
	dst = binary.AppendUvarint(dst, r.ordinal)
	dst = binary.AppendUvarint(dst, r.version)
	dst = binary.AppendUvarint(dst, uint64(base))
	if r.flagged {
		dst = binary.AppendUvarint(dst, uint64(base-max(r.flaggedAt, 0)))
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.attrs)))
	for i := range r.attrs {
		a := &r.attrs[i]
		dst = binary.AppendUvarint(dst, uint64(a.id))
		dst = append(dst, a.hash[:]...)
		dst = binary.AppendUvarint(dst, uint64(base-max(a.sentAt, 0)))
	}
	return dst
}

// decodeRecord reads a value written by encodeRecord into r, reusing r.attrs.
func decodeRecord(v []byte, r *raw) error {
	if len(v) == 0 || v[0] != recordTag {
		return errBadRecord
	}
	d := decoder{b: v[1:]}
	flags := d.uvarint()
	r.flagged = flags&flagFlagged != 0
	r.ordinal = d.uvarint()
	r.version = d.uvarint()
	base := int64(d.uvarint())
	r.flaggedAt = 0
	if r.flagged {
		r.flaggedAt = base - int64(d.uvarint())
	}
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		return errBadRecord
	}
	r.attrs = r.attrs[:0]
	for range n {
		var a rawAttr
		a.id = uint32(d.uvarint())
		if len(d.b) < HashSize {
			return errBadRecord
		}
		copy(a.hash[:], d.b)
		d.b = d.b[HashSize:]
		a.sentAt = base - int64(d.uvarint())
		r.attrs = append(r.attrs, a)
	}
	if d.err || len(d.b) != 0 {
		return errBadRecord
	}
	return nil
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}
