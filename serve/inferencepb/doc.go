// Package inferencepb holds the Go code generated from the Open Inference
// Protocol v2 gRPC definition, grpc_predict_v2.proto (KServe's published
// file, kept unmodified so the wire format is the protocol's):
// the inference.GRPCInferenceService server and client and its messages.
// Nothing here is written by hand but this file and generate.sh.
package inferencepb

//go:generate ./generate.sh
