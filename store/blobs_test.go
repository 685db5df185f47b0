package store

import (
	"context"
	"testing"
	"time"
)

// TestServerlessRecords: put, replace, list and delete Serverless
// resources (JSON kept as bytes), on either backend.
func TestServerlessRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, sid := range []string{"ZS1", "ZS2"} {
		r := ServerlessRecord{SID: sid, Kind: "service", Body: []byte(`{"n":` + string(rune('1'+i)) + `}`), DateCreated: at.Add(time.Duration(i) * time.Second)}
		if err := s.PutServerless(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutServerless(ctx, ServerlessRecord{SID: "ZS1", Kind: "service", Body: []byte(`{"n":9}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListServerless(ctx, "service")
	if err != nil || len(got) != 2 || got[0].SID != "ZS1" || string(got[0].Body) != `{"n":9}` || !got[0].DateCreated.Equal(at) {
		t.Fatalf("ListServerless = %+v, %v", got, err)
	}
	if err := s.DeleteServerless(ctx, "ZS1", "ZS2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ListServerless(ctx, "service"); err != nil || len(got) != 0 {
		t.Errorf("after delete: %+v, %v", got, err)
	}
}

// TestTaskRouterRecords: save, replace, load and delete TaskRouter
// resources, on either backend.
func TestTaskRouterRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	puts := []TaskRouterRecord{
		{SID: "WS1", WorkspaceSID: "WS1", Kind: "WS", Body: []byte(`{"name":"a"}`)},
		{SID: "WK1", WorkspaceSID: "WS1", Kind: "WK", Body: []byte{0, 1, 2, 255}},
	}
	if err := s.SaveTaskRouter(ctx, puts, nil); err != nil {
		t.Fatal(err)
	}
	puts[0].Body = []byte(`{"name":"b"}`)
	if err := s.SaveTaskRouter(ctx, puts[:1], []string{"WK1"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadTaskRouter(ctx)
	if err != nil || len(got) != 1 || string(got[0].Body) != `{"name":"b"}` {
		t.Fatalf("LoadTaskRouter = %+v, %v", got, err)
	}
	if err := s.SaveTaskRouter(ctx, []TaskRouterRecord{{SID: ""}}, nil); err == nil {
		t.Error("a record without a SID was saved")
	}
}
