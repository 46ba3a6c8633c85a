package infer

import "context"

type threadsKey struct{}

// WithThreads returns a context under which Session.Run lets each
// recurrent operator (LSTM, GRU, RNN) spread its work over up to n threads,
// as ONNX Runtime's intra-op thread count does; n ≤ 0, and the default,
// mean GOMAXPROCS. The threads come from one persistent pool shared by the
// process. Results do not depend on n.
func WithThreads(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, threadsKey{}, n)
}

// threadsFrom returns the thread count set by WithThreads, or 0.
func threadsFrom(ctx context.Context) int {
	if ctx == nil {
		return 0
	}
	n, _ := ctx.Value(threadsKey{}).(int)
	return n
}
