package serve

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	pb "github.com/birnn/birnn/serve/inferencepb"
)

// grpcServer is the Open Inference Protocol v2 over gRPC
// (inference.GRPCInferenceService), with the standard health service
// (grpc.health.v1, service "" and "inference.GRPCInferenceService") and
// server reflection. Inference goes through the same checks, limits and
// batcher as REST.
type grpcServer struct {
	srv    *grpc.Server
	health *health.Server
}

// grpcService implements pb.GRPCInferenceServiceServer.
type grpcService struct {
	pb.UnimplementedGRPCInferenceServiceServer
	s *Server
}

// GRPCServer returns the server's gRPC service, built on first use; serve
// it on a listener of its own (RunWith does).
func (s *Server) GRPCServer() *grpc.Server {
	s.grpcOnce.Do(func() {
		g := grpc.NewServer(
			grpc.MaxRecvMsgSize(int(min(s.cfg.MaxBodyBytes, math.MaxInt32))),
			grpc.ChainUnaryInterceptor(s.grpcInstrument),
		)
		pb.RegisterGRPCInferenceServiceServer(g, &grpcService{s: s})
		hs := health.NewServer()
		hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		hs.SetServingStatus(pb.GRPCInferenceService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
		healthpb.RegisterHealthServer(g, hs)
		reflection.Register(g)
		s.grpc = &grpcServer{srv: g, health: hs}
		if s.ready() {
			s.setServing(true)
		}
	})
	return s.grpc.srv
}

// setServing sets the gRPC health status, if gRPC is served.
func (s *Server) setServing(on bool) {
	if s.grpc == nil {
		return
	}
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if on {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.grpc.health.SetServingStatus("", st)
	s.grpc.health.SetServingStatus(pb.GRPCInferenceService_ServiceDesc.ServiceName, st)
}

// grpcInstrument counts and times every call as the HTTP routes are (the
// route label is the full method, the code label the gRPC code).
func (s *Server) grpcInstrument(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	s.met.inFlight.Inc()
	defer s.met.inFlight.Dec()
	resp, err := h(ctx, req)
	d := time.Since(start)
	code := status.Code(err)
	s.met.requests.WithLabelValues(info.FullMethod, code.String()).Inc()
	s.met.latency.WithLabelValues(info.FullMethod, code.String()).Observe(d.Seconds())
	if s.cfg.AccessLog && info.FullMethod == pb.GRPCInferenceService_ModelInfer_FullMethodName || code == codes.Internal || code == codes.Unknown {
		attrs := []any{"method", info.FullMethod, "code", code.String(), "duration_ms", float64(d.Microseconds()) / 1000}
		if err != nil {
			attrs = append(attrs, "error", status.Convert(err).Message())
		}
		s.log.Info("grpc request", attrs...)
	}
	return resp, err
}

// grpcStatus is e as a gRPC status: the protocol's error message with the
// code that matches e's HTTP status.
func grpcStatus(e *APIError) error {
	c := codes.Unknown
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		c = codes.InvalidArgument
		if e.Code == CodeTooManyReviews || e.Code == CodeReviewTooLong {
			c = codes.ResourceExhausted
		}
	case http.StatusNotFound:
		c = codes.NotFound
	case http.StatusRequestEntityTooLarge:
		c = codes.ResourceExhausted
	case statusClientClosed:
		c = codes.Canceled
	case http.StatusInternalServerError:
		c = codes.Internal
	case http.StatusServiceUnavailable:
		c = codes.Unavailable
	case http.StatusGatewayTimeout:
		c = codes.DeadlineExceeded
	}
	return status.Error(c, e.Message)
}

func (g *grpcService) ServerLive(context.Context, *pb.ServerLiveRequest) (*pb.ServerLiveResponse, error) {
	return &pb.ServerLiveResponse{Live: true}, nil
}

func (g *grpcService) ServerReady(context.Context, *pb.ServerReadyRequest) (*pb.ServerReadyResponse, error) {
	return &pb.ServerReadyResponse{Ready: g.s.ready()}, nil
}

func (g *grpcService) ModelReady(_ context.Context, req *pb.ModelReadyRequest) (*pb.ModelReadyResponse, error) {
	_, e := g.s.resolve(req.GetName(), req.GetVersion())
	if e != nil && e.Status == http.StatusNotFound {
		return nil, grpcStatus(e)
	}
	return &pb.ModelReadyResponse{Ready: e == nil && !g.s.draining.Load()}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *pb.ServerMetadataRequest) (*pb.ServerMetadataResponse, error) {
	md := g.s.serverMetadata()
	return &pb.ServerMetadataResponse{Name: md.Name, Version: md.Version, Extensions: md.Extensions}, nil
}

func (g *grpcService) ModelMetadata(_ context.Context, req *pb.ModelMetadataRequest) (*pb.ModelMetadataResponse, error) {
	res, e := g.s.resolve(req.GetName(), req.GetVersion())
	if e != nil {
		return nil, grpcStatus(e)
	}
	md := v2Metadata(res)
	conv := func(ts []V2TensorMetadata) []*pb.ModelMetadataResponse_TensorMetadata {
		out := make([]*pb.ModelMetadataResponse_TensorMetadata, len(ts))
		for i, t := range ts {
			out[i] = &pb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape}
		}
		return out
	}
	return &pb.ModelMetadataResponse{Name: md.Name, Versions: md.Versions, Platform: md.Platform,
		Inputs: conv(md.Inputs), Outputs: conv(md.Outputs)}, nil
}

func (g *grpcService) ModelInfer(ctx context.Context, req *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	s := g.s
	arrived := s.batch.arrive()
	defer arrived()
	res, e := s.resolve(req.GetModelName(), req.GetModelVersion())
	if e != nil {
		return nil, grpcStatus(e)
	}
	ins, raw, err := decodeGRPCInputs(req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	texts, ids, e := s.v2Rows(res.l.info, ins)
	if e != nil {
		return nil, grpcStatus(e)
	}
	requested := make([]string, len(req.GetOutputs()))
	for i, o := range req.GetOutputs() {
		requested[i] = o.GetName()
	}
	if _, e := s.v2Outputs(res.l.info, nil, requested); e != nil {
		return nil, grpcStatus(e)
	}
	j, e := s.run(ctx, res.h, texts, ids, arrived)
	if e != nil {
		return nil, grpcStatus(e)
	}
	outs, _ := s.v2Outputs(res.l.info, j.scores, requested)
	resp := &pb.ModelInferResponse{ModelName: res.name, ModelVersion: res.version, Id: req.GetId()}
	for _, o := range outs {
		t := &pb.ModelInferResponse_InferOutputTensor{Name: o.name, Datatype: o.datatype, Shape: o.shape}
		if raw {
			resp.RawOutputContents = append(resp.RawOutputContents, encodeRaw(o))
		} else if o.strs != nil {
			t.Contents = &pb.InferTensorContents{BytesContents: make([][]byte, len(o.strs))}
			for i, v := range o.strs {
				t.Contents.BytesContents[i] = []byte(v)
			}
		} else {
			t.Contents = &pb.InferTensorContents{Fp32Contents: o.f32}
		}
		resp.Outputs = append(resp.Outputs, t)
	}
	return resp, nil
}

// decodeGRPCInputs reads the request's tensors from their typed contents
// or, when raw_input_contents is set (as tritonclient sends), from the
// raw little-endian bytes (BYTES: each element a 4-byte length, then the
// bytes). raw reports which, so the answer uses the same form.
func decodeGRPCInputs(req *pb.ModelInferRequest) (ins []tensorIn, raw bool, err error) {
	raw = len(req.GetRawInputContents()) > 0
	if raw && len(req.GetRawInputContents()) != len(req.GetInputs()) {
		return nil, false, fmt.Errorf("%d raw_input_contents for %d inputs", len(req.GetRawInputContents()), len(req.GetInputs()))
	}
	for i, t := range req.GetInputs() {
		if t.GetName() == "" {
			return nil, false, fmt.Errorf("input %d has no name", i)
		}
		ti := tensorIn{name: t.GetName(), datatype: t.GetDatatype(), shape: t.GetShape()}
		if raw {
			if t.GetContents() != nil {
				return nil, false, fmt.Errorf("input %q: contents and raw_input_contents both set", t.GetName())
			}
			if err := decodeRaw(&ti, req.GetRawInputContents()[i]); err != nil {
				return nil, false, fmt.Errorf("input %q: raw contents: %w", t.GetName(), err)
			}
		} else if err := decodeContents(&ti, t.GetContents()); err != nil {
			return nil, false, fmt.Errorf("input %q: contents: %w", t.GetName(), err)
		}
		ins = append(ins, ti)
	}
	return ins, raw, nil
}

func decodeContents(t *tensorIn, c *pb.InferTensorContents) error {
	if c == nil {
		return fmt.Errorf("missing")
	}
	appendNums := func(n int, at func(int) float64) {
		t.nums = make([]float64, n)
		for i := range n {
			t.nums[i] = at(i)
		}
	}
	switch t.datatype {
	case "BYTES":
		t.strs = make([]string, len(c.BytesContents))
		for i, b := range c.BytesContents {
			t.strs[i] = string(b)
		}
	case "FP32":
		appendNums(len(c.Fp32Contents), func(i int) float64 { return float64(c.Fp32Contents[i]) })
	case "FP64":
		appendNums(len(c.Fp64Contents), func(i int) float64 { return c.Fp64Contents[i] })
	case "INT8", "INT16", "INT32":
		appendNums(len(c.IntContents), func(i int) float64 { return float64(c.IntContents[i]) })
	case "INT64":
		appendNums(len(c.Int64Contents), func(i int) float64 { return float64(c.Int64Contents[i]) })
	case "UINT8", "UINT16", "UINT32":
		appendNums(len(c.UintContents), func(i int) float64 { return float64(c.UintContents[i]) })
	case "UINT64":
		appendNums(len(c.Uint64Contents), func(i int) float64 { return float64(c.Uint64Contents[i]) })
	default:
		return fmt.Errorf("datatype %q is not one this server reads", t.datatype)
	}
	return nil
}

// rawWidth is the byte width of the fixed-size datatypes read raw.
var rawWidth = map[string]int{"FP32": 4, "FP64": 8, "INT32": 4, "INT64": 8}

func decodeRaw(t *tensorIn, b []byte) error {
	if t.datatype == "BYTES" {
		for len(b) > 0 {
			if len(b) < 4 {
				return fmt.Errorf("%d bytes left, too few for an element length", len(b))
			}
			n := binary.LittleEndian.Uint32(b)
			b = b[4:]
			if uint64(n) > uint64(len(b)) {
				return fmt.Errorf("element of %d bytes, %d left", n, len(b))
			}
			t.strs = append(t.strs, string(b[:n]))
			b = b[n:]
		}
		if t.strs == nil {
			t.strs = []string{}
		}
		return nil
	}
	w, ok := rawWidth[t.datatype]
	if !ok {
		return fmt.Errorf("datatype %q is not one this server reads", t.datatype)
	}
	if len(b)%w != 0 {
		return fmt.Errorf("%d bytes is not a whole number of %s elements", len(b), t.datatype)
	}
	t.nums = make([]float64, len(b)/w)
	for i := range t.nums {
		p := b[i*w:]
		switch t.datatype {
		case "FP32":
			t.nums[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
		case "FP64":
			t.nums[i] = math.Float64frombits(binary.LittleEndian.Uint64(p))
		case "INT32":
			t.nums[i] = float64(int32(binary.LittleEndian.Uint32(p)))
		case "INT64":
			t.nums[i] = float64(int64(binary.LittleEndian.Uint64(p)))
		}
	}
	return nil
}

func encodeRaw(o tensorOut) []byte {
	if o.strs != nil {
		var b []byte
		for _, v := range o.strs {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
		return b
	}
	b := make([]byte, 0, 4*len(o.f32))
	for _, v := range o.f32 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}
