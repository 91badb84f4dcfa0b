package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/vmpilot/conversation-store/gen/go/vmpilot/conversation/v1"
)

// retryServiceConfig is the retry policy a Go service would give its channel to this server: UNAVAILABLE with
// backoff, and RESOURCE_EXHAUSTED, which the server answers with grpc-retry-pushback-ms: a delay when it is busy
// (grpc-go waits that long), -1 when asking again cannot pass (grpc-go does not retry).
const retryServiceConfig = `{"methodConfig": [{
  "name": [{"service": "vmpilot.conversation.v1.ConversationService"}],
  "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.1s", "maxBackoff": "2s", "backoffMultiplier": 2,
                  "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED"]}}]}`

// attempts counts the client's attempts: grpc-go begins each one, retries included, as an RPC of its own.
type attempts struct{ n atomic.Int64 }

func (a *attempts) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (a *attempts) HandleRPC(_ context.Context, s stats.RPCStats) {
	if b, ok := s.(*stats.Begin); ok && b.IsClient() {
		a.n.Add(1)
	}
}
func (a *attempts) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (a *attempts) HandleConn(context.Context, stats.ConnStats)                       {}

// retry runs against a server with a 4 MiB in-flight budget and a 4,000,000-byte history limit: a Get refused
// while a stalled reader holds the budget is served once the reader goes; an Append over the history limit is
// answered after one attempt.
func retry(address, metricsURL string) error {
	counted := &attempts{}
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(retryServiceConfig), grpc.WithStatsHandler(counted))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := pb.NewConversationServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	prefix := fmt.Sprintf("go-retry-%d-%d", os.Getpid(), time.Now().UnixNano())

	big := `{"s":"` + strings.Repeat("x", 3_000_000) + `"}`
	if _, err := client.Save(ctx, &pb.SaveRequest{ThreadId: prefix + "-big", Messages: []*pb.Message{{Json: big}}}); err != nil {
		return fmt.Errorf("save: %v", err)
	}
	stall, err := stalledGet(address, prefix+"-big")
	if err != nil {
		return err
	}
	defer stall.Close()
	if err := awaitMetric(metricsURL, "conversation_in_flight_bytes", func(v float64) bool { return v >= 3_000_000 }); err != nil {
		return err
	}
	refusals, err := metric(metricsURL, "conversation_in_flight_refusals_total")
	if err != nil {
		return err
	}
	before := counted.n.Load()
	type outcome struct {
		got *pb.GetResponse
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		got, err := client.Get(ctx, &pb.GetRequest{ThreadId: prefix + "-big"})
		done <- outcome{got, err}
	}()
	// The first attempt is refused (the stalled reader holds the room)...
	if err := awaitMetric(metricsURL, "conversation_in_flight_refusals_total", func(v float64) bool { return v > refusals }); err != nil {
		return err
	}
	select {
	case o := <-done:
		return fmt.Errorf("busy: the Get ended while the server had no room: %v", o.err)
	default:
	}
	// ...and once the reader is gone, a later attempt gets the whole answer.
	stall.Close()
	o := <-done
	if o.err != nil || len(o.got.GetConversation().GetMessages()) != 1 || o.got.Conversation.Messages[0].Json != big {
		return fmt.Errorf("busy: the Get was not served after the reader went: %v", o.err)
	}
	fmt.Printf("busy ok: the Get was served after %d attempts\n", counted.n.Load()-before)

	long := `{"s":"` + strings.Repeat("x", 3_990_000) + `"}`
	if _, err := client.Save(ctx, &pb.SaveRequest{ThreadId: prefix + "-long", Messages: []*pb.Message{{Json: long}}}); err != nil {
		return fmt.Errorf("save: %v", err)
	}
	before = counted.n.Load()
	// A small request (grpc-go keeps only requests under 256 KiB to retry them) over the history limit.
	_, err = client.Append(ctx, &pb.AppendRequest{ThreadId: prefix + "-long",
		Messages: []*pb.Message{{Json: `{"s":"` + strings.Repeat("x", 20_000) + `"}`}}})
	st := status.Convert(err)
	reason := ""
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.Reason
		}
	}
	if st.Code() != codes.ResourceExhausted || reason != "HISTORY_TOO_LARGE" {
		return fmt.Errorf("limit: got %v (reason %q), want RESOURCE_EXHAUSTED HISTORY_TOO_LARGE", err, reason)
	}
	fmt.Printf("limit ok: %s after %d attempt(s)\n", reason, counted.n.Load()-before)
	return nil
}

// stalledGet opens a raw HTTP/2 connection that asks for a Get of thread and never reads the answer.
func stalledGet(address, thread string) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", address, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var block []byte
	for _, h := range [][2]string{{":method", "POST"}, {":scheme", "http"},
		{":path", "/vmpilot.conversation.v1.ConversationService/Get"}, {":authority", address},
		{"content-type", "application/grpc"}, {"te", "trailers"}} {
		// HPACK literals without indexing or Huffman coding; every name and value here is under 127 bytes.
		block = append(block, 0, byte(len(h[0])))
		block = append(block, h[0]...)
		block = append(block, byte(len(h[1])))
		block = append(block, h[1]...)
	}
	body, err := proto.Marshal(&pb.GetRequest{ThreadId: thread})
	if err != nil {
		return nil, err
	}
	message := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(body)))
	out := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	out = append(out, frame(4, 0, 0, nil)...)
	out = append(out, frame(1, 0x4, 1, block)...)
	out = append(out, frame(0, 0x1, 1, append(message, body...))...)
	if _, err := conn.Write(out); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func frame(kind, flags byte, stream uint32, payload []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))[1:]
	f = append(f, kind, flags)
	f = binary.BigEndian.AppendUint32(f, stream)
	return append(f, payload...)
}

var sample = regexp.MustCompile(`(?m)^(\w+)(?:\{[^}]*\})? (\S+)$`)

// metric is the sum of the samples of name in the server's Prometheus scrape.
func metric(url, name string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	scrape, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, m := range sample.FindAllStringSubmatch(string(scrape), -1) {
		if m[1] == name {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				return 0, err
			}
			total += v
		}
	}
	return total, nil
}

func awaitMetric(url, name string, wanted func(float64) bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := metric(url, name)
		if err != nil {
			return err
		}
		if wanted(v) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s stayed at %v", name, v)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval: the loop checks the metric itself
	}
}
