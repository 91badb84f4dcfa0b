// Example Go client of the VMPilot conversation store.
//
//	client ADDRESS                               save, append, get, list, conflict, clear
//	client read ADDRESS THREAD_ID EXPECTED_FILE  compare a stored conversation byte for byte
//	client retry ADDRESS METRICS_URL             retries: a busy server waited out, a limit not retried (retry.go)
//
// Stubs are generated from proto/ by gen.sh (protoc-gen-go, protoc-gen-go-grpc).
// Prints one line per step and exits non-zero on the first failure.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/vmpilot/conversation-store/gen/go/vmpilot/conversation/v1"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 2:
		err = demo(os.Args[1])
	case len(os.Args) == 5 && os.Args[1] == "read":
		err = read(os.Args[2], os.Args[3], os.Args[4])
	case len(os.Args) == 4 && os.Args[1] == "retry":
		err = retry(os.Args[2], os.Args[3])
	default:
		err = fmt.Errorf("usage: client ADDRESS | client read ADDRESS THREAD_ID EXPECTED_FILE | client retry ADDRESS METRICS_URL")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
}

func connect(address string) (pb.ConversationServiceClient, *grpc.ClientConn, error) {
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return pb.NewConversationServiceClient(conn), conn, nil
}

func demo(address string) error {
	client, conn, err := connect(address)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	thread := fmt.Sprintf("go-example-%d-%d", os.Getpid(), time.Now().UnixNano())
	system := `{"role":"system","content":"You are a helpful assistant."}`
	user := `{"role":"user","content":"Hello from Go \u00e9 🚀"}`
	assistant := `{"role":"assistant","content":"Hi!","n":9007199254740993}`

	// Save: creates the conversation with its whole history.
	saved, err := client.Save(ctx, &pb.SaveRequest{
		ThreadId:  thread,
		Messages:  []*pb.Message{{Json: system}, {Json: user}},
		CacheInfo: map[string]int64{"input_tokens": 10},
		Metadata:  map[string]string{"run": thread},
	})
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if !saved.Created || saved.MessageCount != 2 || saved.Version <= 0 {
		return fmt.Errorf("save: unexpected response %v", saved)
	}
	fmt.Printf("save ok: version=%d messages=%d\n", saved.Version, saved.MessageCount)

	// Append: adds one message; the id makes a retry harmless.
	appended, err := client.Append(ctx, &pb.AppendRequest{
		ThreadId: thread,
		Messages: []*pb.Message{{Id: "m3", Json: assistant}},
	})
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	if appended.AppendedCount != 1 || appended.MessageCount != 3 || appended.Version <= saved.Version {
		return fmt.Errorf("append: unexpected response %v", appended)
	}
	fmt.Printf("append ok: version=%d messages=%d\n", appended.Version, appended.MessageCount)

	// Get: messages come back verbatim.
	got, err := client.Get(ctx, &pb.GetRequest{ThreadId: thread})
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	c := got.Conversation
	want := []string{system, user, assistant}
	if len(c.Messages) != len(want) {
		return fmt.Errorf("get: %d messages, want %d", len(c.Messages), len(want))
	}
	for i, m := range c.Messages {
		if m.Json != want[i] {
			return fmt.Errorf("get: message %d is %q, want %q", i, m.Json, want[i])
		}
	}
	if c.CacheInfo["input_tokens"] != 10 || c.Version != appended.Version || c.Messages[2].Id != "m3" {
		return fmt.Errorf("get: unexpected conversation %v", c)
	}
	fmt.Printf("get ok: version=%d messages=%d cache_info=%v\n", c.Version, len(c.Messages), c.CacheInfo)

	// List, filtered by metadata.
	listed, err := client.List(ctx, &pb.ListRequest{MetadataFilter: map[string]string{"run": thread}})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if len(listed.Conversations) != 1 || listed.Conversations[0].ThreadId != thread ||
		listed.Conversations[0].MessageCount != 3 {
		return fmt.Errorf("list: unexpected response %v", listed)
	}
	fmt.Printf("list ok: %s has %d messages\n", thread, listed.Conversations[0].MessageCount)

	// Version conflict: a Save based on the stale version fails with ABORTED
	// and an ErrorInfo saying why and what the current version is.
	_, err = client.Save(ctx, &pb.SaveRequest{
		ThreadId:        thread,
		Messages:        []*pb.Message{{Json: system}},
		ExpectedVersion: &saved.Version,
	})
	st := status.Convert(err)
	if st.Code() != codes.Aborted {
		return fmt.Errorf("conflict: got %v, want ABORTED", err)
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			info = ei
		}
	}
	if info == nil || info.Reason != "VERSION_MISMATCH" || info.Domain != "conversation.vmpilot.io" ||
		info.Metadata["current_version"] != fmt.Sprint(appended.Version) {
		return fmt.Errorf("conflict: unexpected details %v", st.Details())
	}
	fmt.Printf("conflict ok: %s %s current_version=%s\n", st.Code(), info.Reason, info.Metadata["current_version"])

	// Clear: deletes it; Get then says NOT_FOUND; clearing again is no error.
	cleared, err := client.Clear(ctx, &pb.ClearRequest{ThreadId: thread})
	if err != nil || !cleared.Deleted {
		return fmt.Errorf("clear: %v %v", cleared, err)
	}
	if _, err = client.Get(ctx, &pb.GetRequest{ThreadId: thread}); status.Code(err) != codes.NotFound {
		return fmt.Errorf("get after clear: got %v, want NOT_FOUND", err)
	}
	if again, err := client.Clear(ctx, &pb.ClearRequest{ThreadId: thread}); err != nil || again.Deleted {
		return fmt.Errorf("clear again: %v %v", again, err)
	}
	fmt.Println("clear ok: deleted, then NOT_FOUND")
	fmt.Println("go client: all steps passed")
	return nil
}

// fixture is the file written by ../python/write_fixture.py.
type fixture struct {
	ThreadID string `json:"thread_id"`
	Messages []struct {
		ID   string `json:"id"`
		JSON string `json:"json"`
	} `json:"messages"`
	CacheInfo map[string]int64 `json:"cache_info"`
}

func read(address, thread, expectedFile string) error {
	raw, err := os.ReadFile(expectedFile)
	if err != nil {
		return err
	}
	var want fixture
	if err := json.Unmarshal(raw, &want); err != nil {
		return fmt.Errorf("%s: %w", expectedFile, err)
	}
	client, conn, err := connect(address)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := client.Get(ctx, &pb.GetRequest{ThreadId: thread})
	if err != nil {
		return fmt.Errorf("get %s: %w", thread, err)
	}
	msgs := got.Conversation.Messages
	if len(msgs) != len(want.Messages) {
		return fmt.Errorf("%d messages, want %d", len(msgs), len(want.Messages))
	}
	for i, w := range want.Messages {
		if !bytes.Equal([]byte(msgs[i].Json), []byte(w.JSON)) {
			return fmt.Errorf("message %d differs:\n got  %q\n want %q", i, msgs[i].Json, w.JSON)
		}
		if msgs[i].Id != w.ID {
			return fmt.Errorf("message %d id is %q, want %q", i, msgs[i].Id, w.ID)
		}
		fmt.Printf("message %d identical (%d bytes)\n", i, len(w.JSON))
	}
	for k, v := range want.CacheInfo {
		if got.Conversation.CacheInfo[k] != v {
			return fmt.Errorf("cache_info[%s] = %d, want %d", k, got.Conversation.CacheInfo[k], v)
		}
	}
	fmt.Printf("read ok: %d messages byte for byte identical\n", len(msgs))
	return nil
}
