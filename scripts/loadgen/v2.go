package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/birnn/birnn/serve/inferencepb"
)

// v2Bodies regroups texts into Open Inference Protocol v2 REST bodies of
// o.reviews reviews each: one BYTES input "text".
func v2Bodies(o options, texts []string) [][]byte {
	var out [][]byte
	for lo := 0; lo+o.reviews <= len(texts); lo += o.reviews {
		b, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{
			"name": "text", "datatype": "BYTES", "shape": []int{o.reviews}, "data": texts[lo : lo+o.reviews]}}})
		out = append(out, b)
	}
	return out
}

// grpcSender sends v2 ModelInfer requests over one gRPC connection (HTTP/2
// multiplexes the clients' calls, as a gRPC client does).
type grpcSender struct {
	conn *grpc.ClientConn
	c    pb.GRPCInferenceServiceClient
	reqs []*pb.ModelInferRequest
}

func newGRPCSender(o options, texts []string) (*grpcSender, error) {
	conn, err := grpc.NewClient(o.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("grpc: %w", err)
	}
	g := &grpcSender{conn: conn, c: pb.NewGRPCInferenceServiceClient(conn)}
	for lo := 0; lo+o.reviews <= len(texts); lo += o.reviews {
		in := &pb.ModelInferRequest_InferInputTensor{Name: "text", Datatype: "BYTES", Shape: []int64{int64(o.reviews)},
			Contents: &pb.InferTensorContents{}}
		for _, t := range texts[lo : lo+o.reviews] {
			in.Contents.BytesContents = append(in.Contents.BytesContents, []byte(t))
		}
		g.reqs = append(g.reqs, &pb.ModelInferRequest{ModelName: o.model, Inputs: []*pb.ModelInferRequest_InferInputTensor{in}})
	}
	return g, nil
}

func (g *grpcSender) send(ctx context.Context, k int64) (string, error) {
	_, err := g.c.ModelInfer(ctx, g.reqs[k%int64(len(g.reqs))])
	if err == nil {
		return "", nil
	}
	// gRPC checks the deadline itself and may answer DeadlineExceeded a
	// moment before ctx reports it: that is the run's end, not an error.
	if dl, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(dl) {
		return "", context.DeadlineExceeded
	}
	if st, ok := status.FromError(err); ok {
		return "gRPC " + st.Code().String(), nil
	}
	return "", err
}

func (g *grpcSender) close() { _ = g.conn.Close() }
