package sampledata

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/brazesync/brazesync/schema"
)

// CSVHeader names the CSV columns: the key column by its Braze name, the attributes as braze[attr].
var CSVHeader = []string{"external_id", "braze[first_name]", "braze[last_name]", "braze[email]", "braze[ltv]",
	"braze[churn_risk]", "braze[is_vip]", "braze[signup_date]", "braze[last_seen_at]"}

// WriteCSV writes users as CSV with braze[attr] headers.
func WriteCSV(w io.Writer, users []User) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, u := range users {
		rec := []string{u.ExternalID, u.FirstName, u.LastName, u.Email, cents(u.LTVCents),
			strconv.FormatFloat(u.ChurnRisk, 'f', -1, 64), strconv.FormatBool(u.IsVIP),
			u.SignupDate.Format("2006-01-02"), u.LastSeenAt.Format("2006-01-02T15:04:05.000000Z")}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func cents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// ParquetSchema is the Arrow schema of the Parquet sample: plain column names, Looker-style tags in
// field metadata (braze_id on the key, braze[attr] on the attributes), as a Looker export carries them.
func ParquetSchema() *arrow.Schema {
	f := func(name string, t arrow.DataType, tag string) arrow.Field {
		return schema.FieldWithTags(arrow.Field{Name: name, Type: t, Nullable: true}, tag)
	}
	return arrow.NewSchema([]arrow.Field{
		f("user_id", arrow.BinaryTypes.String, "braze_id"),
		f("first_name", arrow.BinaryTypes.String, "braze[first_name]"),
		f("last_name", arrow.BinaryTypes.String, "braze[last_name]"),
		f("email", arrow.BinaryTypes.String, "braze[email]"),
		f("ltv", &arrow.Decimal128Type{Precision: 12, Scale: 2}, "braze[ltv]"),
		f("churn_risk", arrow.PrimitiveTypes.Float64, "braze[churn_risk]"),
		f("is_vip", arrow.FixedWidthTypes.Boolean, "braze[is_vip]"),
		f("signup_date", arrow.FixedWidthTypes.Date32, "braze[signup_date]"),
		f("last_seen_at", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "braze[last_seen_at]"),
		f("favorite_categories", arrow.ListOf(arrow.BinaryTypes.String), "braze[favorite_categories]"),
		{Name: "internal_score", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, // untagged: not sent
	}, nil)
}

// WriteParquet writes users as Parquet, storing the Arrow schema so the tags survive.
func WriteParquet(w io.Writer, users []User) error {
	sc := ParquetSchema()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(8192))
	fw, err := pqarrow.NewFileWriter(sc, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	for start := 0; start < len(users); start += 4096 {
		rec := record(sc, users[start:min(len(users), start+4096)], start)
		err := fw.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return fw.Close()
}

// Record builds one Arrow record of users on ParquetSchema; offset numbers internal_score.
func record(sc *arrow.Schema, users []User, offset int) arrow.Record {
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, u := range users {
		if u.ExternalID == "" {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(u.ExternalID)
		}
		b.Field(1).(*array.StringBuilder).Append(u.FirstName)
		b.Field(2).(*array.StringBuilder).Append(u.LastName)
		b.Field(3).(*array.StringBuilder).Append(u.Email)
		b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(u.LTVCents))
		b.Field(5).(*array.Float64Builder).Append(u.ChurnRisk)
		b.Field(6).(*array.BooleanBuilder).Append(u.IsVIP)
		b.Field(7).(*array.Date32Builder).Append(arrow.Date32FromTime(u.SignupDate))
		b.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(u.LastSeenAt.UnixMicro()))
		lb := b.Field(9).(*array.ListBuilder)
		lb.Append(true)
		for _, c := range u.Categories {
			lb.ValueBuilder().(*array.StringBuilder).Append(c)
		}
		b.Field(10).(*array.Int64Builder).Append(int64(offset + i))
	}
	return b.NewRecord()
}

// WriteFiles writes users.parquet and users.csv into dir.
func WriteFiles(dir string, users []User) error {
	for name, write := range map[string]func(io.Writer, []User) error{"users.parquet": WriteParquet, "users.csv": WriteCSV} {
		// Through a buffer: pqarrow's writer closes the writer it is given.
		var buf bytes.Buffer
		if err := write(&buf, users); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
