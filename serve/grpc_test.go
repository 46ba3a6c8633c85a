package serve_test

import (
	"context"
	"encoding/binary"
	"math"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/birnn/birnn/serve"
	pb "github.com/birnn/birnn/serve/inferencepb"
)

// grpcClient serves s's gRPC service on a loopback port and dials it.
func grpcClient(t *testing.T, s *serve.Server) *grpc.ClientConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := s.GRPCServer()
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestGRPCInferMatchesReference(t *testing.T) {
	s, p, _ := tinyServer(t, 9, nil)
	conn := grpcClient(t, s)
	c := pb.NewGRPCInferenceServiceClient(conn)
	ctx := context.Background()

	if r, err := c.ServerLive(ctx, &pb.ServerLiveRequest{}); err != nil || !r.Live {
		t.Fatalf("ServerLive: %v %v", r, err)
	}
	if r, err := c.ServerReady(ctx, &pb.ServerReadyRequest{}); err != nil || !r.Ready {
		t.Fatalf("ServerReady: %v %v", r, err)
	}
	if r, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "tiny", Version: "1"}); err != nil || !r.Ready {
		t.Fatalf("ModelReady: %v %v", r, err)
	}
	md, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "tiny"})
	if err != nil || md.Platform != "onnx_onnxv1" || len(md.Inputs) != 2 || md.Inputs[1].Name != "embedding_input" || md.Outputs[0].Name != "dense" {
		t.Fatalf("ModelMetadata: %v %v", md, err)
	}

	texts := []string{"wb wc wd", "wq wr ws wt wu", "wz"}
	// Raw contents, as tritonclient sends them.
	var raw []byte
	for _, tx := range texts {
		raw = binary.LittleEndian.AppendUint32(raw, uint32(len(tx)))
		raw = append(raw, tx...)
	}
	resp, err := c.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "tiny", Id: "g1",
		Inputs:           []*pb.ModelInferRequest_InferInputTensor{{Name: "text", Datatype: "BYTES", Shape: []int64{3}}},
		RawInputContents: [][]byte{raw}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ModelName != "tiny" || resp.ModelVersion != "1" || resp.Id != "g1" || len(resp.RawOutputContents) != 2 {
		t.Fatalf("answer %v", resp)
	}
	for i, tx := range texts {
		got := math.Float32frombits(binary.LittleEndian.Uint32(resp.RawOutputContents[0][4*i:]))
		ref, _ := p.Reference(p.EncodeText(tx))
		if math.Abs(float64(got)-ref) > 1e-5 {
			t.Errorf("text %d: %v, reference %v", i, got, ref)
		}
	}

	// Typed contents: ids as FP32, the model's own input.
	row := []float32{1, 5, 9, 13, 17, 21, 0, 0}
	resp, err = c.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "tiny", ModelVersion: "1",
		Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "embedding_input", Datatype: "FP32", Shape: []int64{1, 8},
			Contents: &pb.InferTensorContents{Fp32Contents: row}}},
		Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}, {Name: "dense"}}})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := p.Reference([]int32{1, 5, 9, 13, 17, 21, 0, 0})
	if len(resp.Outputs) != 2 || resp.Outputs[0].Name != "label" || resp.Outputs[1].Name != "dense" {
		t.Fatalf("outputs %v", resp.Outputs)
	}
	if got := resp.Outputs[1].Contents.Fp32Contents; len(got) != 1 || math.Abs(float64(got[0])-ref) > 1e-5 {
		t.Errorf("ids: %v, reference %v", got, ref)
	}
	wantLabel := "negative"
	if ref > 0.5 {
		wantLabel = "positive"
	}
	if got := resp.Outputs[0].Contents.BytesContents; len(got) != 1 || string(got[0]) != wantLabel {
		t.Errorf("label %q, want %q", got, wantLabel)
	}

	// Health and reflection.
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "inference.GRPCInferenceService"})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v %v", h, err)
	}
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	rr, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sv := range rr.GetListServicesResponse().GetService() {
		names = append(names, sv.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "inference.GRPCInferenceService") {
		t.Errorf("reflection lists %v", names)
	}
}

// rawCodec sends bytes as they are, to put malformed protobuf on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { return nil }
func (rawCodec) Name() string                       { return "proto" }

func TestGRPCErrors(t *testing.T) {
	s, _, _ := tinyServer(t, 9, func(c *serve.Config) { c.MaxBodyBytes = 2048; c.MaxReviews = 3 })
	conn := grpcClient(t, s)
	c := pb.NewGRPCInferenceServiceClient(conn)
	ctx := context.Background()
	text := func(n int, shape ...int64) *pb.ModelInferRequest {
		in := &pb.ModelInferRequest_InferInputTensor{Name: "text", Datatype: "BYTES", Shape: shape, Contents: &pb.InferTensorContents{}}
		for range n {
			in.Contents.BytesContents = append(in.Contents.BytesContents, []byte("wb wc"))
		}
		return &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{in}}
	}
	withModel := func(r *pb.ModelInferRequest, name, version string) *pb.ModelInferRequest {
		r.ModelName, r.ModelVersion = name, version
		return r
	}
	wrongType := text(1, 1)
	wrongType.Inputs[0].Datatype = "INT32"
	rawShort := &pb.ModelInferRequest{ModelName: "tiny",
		Inputs:           []*pb.ModelInferRequest_InferInputTensor{{Name: "embedding_input", Datatype: "FP32", Shape: []int64{1, 8}}},
		RawInputContents: [][]byte{make([]byte, 30)}}
	rawBytes := &pb.ModelInferRequest{ModelName: "tiny",
		Inputs:           []*pb.ModelInferRequest_InferInputTensor{{Name: "text", Datatype: "BYTES", Shape: []int64{1}}},
		RawInputContents: [][]byte{{200, 0, 0, 0, 'a'}}}
	big := text(1, 1)
	big.Inputs[0].Contents.BytesContents[0] = make([]byte, 4000)
	cases := []struct {
		name string
		req  *pb.ModelInferRequest
		code codes.Code
		msg  string
	}{
		{"unknown model", withModel(text(1, 1), "nope", ""), codes.NotFound, `unknown model "nope"`},
		{"unknown version", withModel(text(1, 1), "tiny", "3"), codes.NotFound, `unknown version "3"`},
		{"wrong datatype", wrongType, codes.InvalidArgument, "datatype INT32"},
		{"shape/data mismatch", text(2, 3), codes.InvalidArgument, "holds 3 elements, data has 2"},
		{"raw too short", rawShort, codes.InvalidArgument, "not a whole number of FP32 elements"},
		{"raw length past end", rawBytes, codes.InvalidArgument, "element of 200 bytes"},
		{"too many rows", text(4, 4), codes.ResourceExhausted, "exceed the limit of 3"},
		{"oversized message", big, codes.ResourceExhausted, "larger than max"},
	}
	for _, tc := range cases {
		_, err := c.ModelInfer(ctx, tc.req)
		st := status.Convert(err)
		if st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
			t.Errorf("%s: %v %q, want %v and %q", tc.name, st.Code(), st.Message(), tc.code, tc.msg)
		}
	}
	var out []byte
	err := conn.Invoke(ctx, pb.GRPCInferenceService_ModelInfer_FullMethodName, []byte{0xff, 0xff, 0xff}, &out, grpc.ForceCodec(rawCodec{}))
	if st := status.Convert(err); st.Code() != codes.Internal || !strings.Contains(st.Message(), "unmarshal") {
		t.Errorf("malformed protobuf: %v %q", st.Code(), st.Message())
	}
	if _, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("metadata of an unknown model: %v", err)
	}
	if r, err := c.ModelInfer(ctx, text(1, 1)); err != nil || len(r.Outputs) != 2 {
		t.Errorf("after the errors: %v %v", r, err)
	}
}
