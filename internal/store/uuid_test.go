package store

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestUUIDCodec checks that a uuid.UUID crosses pgx as its 16 bytes, both
// ways and inside arrays, and that NULL still reaches a nullable one.
func TestUUIDCodec(t *testing.T) {
	m := pgtype.NewMap()
	registerUUID(m)
	want := uuid.Must(uuid.NewV7())

	var got uuid.UUID
	if plan := m.PlanScan(pgtype.UUIDOID, pgtype.BinaryFormatCode, &got); plan == nil {
		t.Fatal("no scan plan")
	} else if _, ok := plan.(scanUUID); !ok {
		t.Fatalf("scan plan is %T, want scanUUID (not database/sql's Scanner through text)", plan)
	}
	if plan := m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, want); plan == nil {
		t.Fatal("no encode plan")
	} else if _, ok := plan.(encodeUUID); !ok {
		t.Fatalf("encode plan is %T, want encodeUUID", plan)
	}

	buf, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, want, nil)
	if err != nil || len(buf) != 16 {
		t.Fatalf("encode: %x, %v; want 16 bytes", buf, err)
	}
	if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, buf, &got); err != nil || got != want {
		t.Fatalf("scan: %v, %v; want %v", got, err, want)
	}
	if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, []byte{1, 2}, &got); err == nil {
		t.Error("scanned 2 bytes into a uuid")
	}
	if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, nil, &got); err == nil {
		t.Error("scanned NULL into a uuid.UUID")
	}

	ptr := &want
	if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, nil, &ptr); err != nil || ptr != nil {
		t.Errorf("NULL into *uuid.UUID: %v, %v; want nil", ptr, err)
	}
	if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, buf, &ptr); err != nil || ptr == nil || *ptr != want {
		t.Errorf("scan into *uuid.UUID: %v, %v; want %v", ptr, err, want)
	}

	ids := []uuid.UUID{want, uuid.Nil}
	abuf, err := m.Encode(pgtype.UUIDArrayOID, pgtype.BinaryFormatCode, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	var back []uuid.UUID
	if err := m.Scan(pgtype.UUIDArrayOID, pgtype.BinaryFormatCode, abuf, &back); err != nil || len(back) != 2 || back[0] != want || back[1] != uuid.Nil {
		t.Fatalf("array round trip: %v, %v", back, err)
	}
}
