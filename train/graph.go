package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/birnn/birnn/model"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// net is the gorgonia graph of one model for one batch shape, with its
// compiled tape machine. Parameter nodes share memory with the model's
// weights, so a solver step updates the model in place. Nets are cached per
// (batch, training) and reused across batches.
type net[T float32 | float64] struct {
	g          *G.ExprGraph
	vm         G.VM
	batch, seq int
	training   bool
	ids        *G.Node // Int [batch·seq], row-major [batch, seq]
	labels     *G.Node // [batch, 1]
	logits     *G.Node // [batch, units]
	loss       *G.Node // scalar, mean over the batch
	lossK      *lossKernel[T]
	params     []*G.Node // trainable nodes in model order
	tm         []int     // ids reordered time-major
	mask       *seqMask  // mask_zero models: the padded steps of the batch
}

// newSeqLayers returns the recurrent layers of a model (nil for others),
// whose buffers the nets of every batch size share; dropout[i] is layer
// i's recurrent dropout rate, drawn from rng when training.
func newSeqLayers[T float32 | float64](layers []model.LayerSpec, dim int, dropout []float64, rng *rand.Rand) []*seqLayer[T] {
	out := make([]*seqLayer[T], len(layers))
	width := dim
	for i, l := range layers {
		switch l.Kind {
		case model.KindLSTM:
			out[i] = newSeqLayer[T](lstmCell[T]{hidden: l.Units}, l, width, dropout[i], rng)
		case model.KindGRU, model.KindSimpleRNN, model.KindDropout, model.KindSpatialDropout:
			// rnn_op.go and layers.go run these; the entry carries the
			// layer's input width, recurrent dropout rate and RNG.
			out[i] = &seqLayer[T]{name: l.Name, in: width, hidden: l.Units, dropout: dropout[i], rng: rng}
		}
		width = l.Out
	}
	return out
}

// paramSource returns the full backing slice of a model weight by name;
// the graph slices it per direction (W, R and Wb; Rb is never trained).
type paramSource[T float32 | float64] func(name string) ([]T, error)

// buildNet builds the graph of layers for a batch of batch sequences of
// length seq, with the recurrent layers rec (newSeqLayers). Rows run
// time-major (row t·batch + b) from the embedding to the last recurrent
// layer.
func buildNet[T float32 | float64](layers []model.LayerSpec, rec []*seqLayer[T], vocab, dim int, src paramSource[T], batch, seq int, training bool) (*net[T], error) {
	dt := dtypeOf[T]()
	n := &net[T]{g: G.NewGraph(), batch: batch, seq: seq, training: training}
	g := n.g
	param := func(name string, v []T, shape ...int) *G.Node {
		var nd *G.Node
		if len(shape) == 1 {
			nd = G.NewVector(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(dense(v, shape...)))
		} else {
			nd = G.NewMatrix(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(dense(v, shape...)))
		}
		n.params = append(n.params, nd)
		return nd
	}
	embW, err := src("embedding")
	if err != nil {
		return nil, err
	}
	if len(embW) != vocab*dim {
		return nil, fmt.Errorf("train: embedding has %d values, want %d×%d", len(embW), vocab, dim)
	}
	emb := param("embedding", embW, vocab, dim)
	n.ids = G.NewVector(g, tensor.Int, G.WithShape(batch*seq), G.WithName("ids"))
	x, err := applyFused(&embedKernel[T]{vocab: vocab, dim: dim, n: batch * seq}, emb, n.ids)
	if err != nil {
		return nil, fmt.Errorf("train: embedding: %w", err)
	}
	rows, width, seqOut := batch*seq, dim, true
	var logits *G.Node
	for li, l := range layers {
		last := li == len(layers)-1
		if l.Recurrent() {
			if x, err = n.inputDropout(l, x, width, rec[li].rng); err != nil {
				return nil, fmt.Errorf("train: %s: %w", l.Name, err)
			}
		}
		switch l.Kind {
		case model.KindLSTM:
			if !seqOut {
				return nil, fmt.Errorf("train: layer %d: an LSTM needs sequences as input", li)
			}
			H := l.Units
			w, err1 := src(l.Name + ".W")
			r, err2 := src(l.Name + ".R")
			b, err3 := src(l.Name + ".B")
			if err := firstErr(err1, err2, err3); err != nil {
				return nil, err
			}
			if len(w) != l.Dirs*4*H*width || len(r) != l.Dirs*4*H*H || len(b) != l.Dirs*8*H {
				return nil, fmt.Errorf("train: %s: weights do not match [%d, %d, %d]", l.Name, l.Dirs, 4*H, width)
			}
			if rec[li] == nil || rec[li].in != width {
				return nil, fmt.Errorf("train: %s: no recurrent layer of input width %d", l.Name, width)
			}
			op := &seqOp[T]{l: rec[li], batch: batch, seq: seq, training: training}
			if l.Masked {
				op.steps = n.seqMask()
			}
			args := []*G.Node{x}
			for d := 0; d < l.Dirs; d++ {
				args = append(args,
					param(fmt.Sprintf("%s.W#%d", l.Name, d), w[d*4*H*width:(d+1)*4*H*width], 4*H, width),
					param(fmt.Sprintf("%s.R#%d", l.Name, d), r[d*4*H*H:(d+1)*4*H*H], 4*H, H),
					param(fmt.Sprintf("%s.Wb#%d", l.Name, d), b[d*8*H:d*8*H+4*H], 4*H))
			}
			if x, err = applyFused(op, args...); err != nil {
				return nil, fmt.Errorf("train: %s: %w", l.Name, err)
			}
			seqOut = l.ReturnSequences
			if !seqOut {
				rows = batch
			}
			width = l.Out
		case model.KindGRU, model.KindSimpleRNN:
			if !seqOut || rec[li] == nil || rec[li].in != width {
				return nil, fmt.Errorf("train: %s: no recurrent layer of input width %d", l.Name, width)
			}
			var steps *seqMask
			if l.Masked {
				steps = n.seqMask()
			}
			if x, err = addRecurrent(l, x, width, batch, seq, src, param, rec[li].dropout, training, rec[li].rng, steps); err != nil {
				return nil, err
			}
			seqOut = l.ReturnSequences
			if !seqOut {
				rows = batch
			}
			width = l.Out
		case model.KindDropout, model.KindSpatialDropout, model.KindGlobalMaxPool, model.KindGlobalAveragePool:
			var rng *rand.Rand
			if rec[li] != nil {
				rng = rec[li].rng
			}
			if x, rows, err = n.addWeightless(l, x, rows, width, seqOut, rng); err != nil {
				return nil, fmt.Errorf("train: %s: %w", l.Name, err)
			}
			seqOut = l.ReturnSequences
		case model.KindDense:
			if seqOut {
				return nil, fmt.Errorf("train: layer %d: a Dense layer on sequences is not supported (the LSTM before it returns sequences)", li)
			}
			w, err1 := src(l.Name + ".W")
			b, err2 := src(l.Name + ".B")
			if err := firstErr(err1, err2); err != nil {
				return nil, err
			}
			if len(w) != width*l.Units || len(b) != l.Units {
				return nil, fmt.Errorf("train: %s: weights do not match [%d, %d]", l.Name, width, l.Units)
			}
			wn := param(l.Name+".W", w, width, l.Units)
			bn := param(l.Name+".B", b, l.Units)
			y, err := applyFused(&affineKernel[T]{name: l.Name, n: rows, in: width, u: l.Units}, x, wn, bn)
			if err != nil {
				return nil, fmt.Errorf("train: %s: %w", l.Name, err)
			}
			act := l.Activation
			if act == "" {
				act = "sigmoid"
			}
			if last {
				// The head's logits: model.Layers admits only Dense(1,
				// sigmoid) and Dense(2, softmax), each with its cross-entropy.
				logits = y
				break
			}
			switch act {
			case "sigmoid":
				y, err = G.Sigmoid(y)
			case "relu":
				y, err = G.Rectify(y)
			case "tanh":
				y, err = G.Tanh(y)
			case "linear":
			default:
				return nil, fmt.Errorf("train: %s: activation %q is only supported on the last layer", l.Name, act)
			}
			if err != nil {
				return nil, fmt.Errorf("train: %s: %w", l.Name, err)
			}
			x, width = y, l.Units
		default:
			return nil, fmt.Errorf("train: layer %d: unknown kind %q", li, l.Kind)
		}
	}
	if logits == nil {
		return nil, fmt.Errorf("train: the model must end with a Dense layer")
	}
	units := logits.Shape()[1]
	n.logits = logits
	n.labels = G.NewMatrix(g, dt, G.WithShape(batch, 1), G.WithName("labels"))
	n.lossK = &lossKernel[T]{n: batch, u: units}
	if n.loss, err = applyFused(n.lossK, logits, n.labels); err != nil {
		return nil, fmt.Errorf("train: loss: %w", err)
	}
	if training {
		if _, err := G.Grad(n.loss, n.params...); err != nil {
			return nil, fmt.Errorf("train: gradient graph: %w", err)
		}
		n.vm = G.NewTapeMachine(g, G.BindDualValues(n.params...))
	} else {
		n.vm = G.NewTapeMachine(g)
	}
	return n, nil
}

// timeMajor writes ids [batch, seq] (row-major) into dst in time-major
// order, [seq, batch].
func timeMajor[I int | int32](dst []int, ids []I, batch, seq int) []int {
	if cap(dst) < batch*seq {
		dst = make([]int, batch*seq)
	}
	dst = dst[:batch*seq]
	for b := range batch {
		for t, v := range ids[b*seq : (b+1)*seq] {
			dst[t*batch+b] = int(v)
		}
	}
	return dst
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// run executes the graph on one batch: ids [batch·seq] row-major, labels
// [batch]. It returns the mean loss and writes the per-row losses and
// logits into the net's kernels.
func (n *net[T]) run(ids []int, labels []T) (float64, error) {
	n.tm = timeMajor(n.tm, ids, n.batch, n.seq)
	if err := G.Let(n.ids, tensor.New(tensor.WithShape(len(n.tm)), tensor.WithBacking(n.tm))); err != nil {
		return 0, err
	}
	if n.mask != nil {
		n.mask.set(ids)
	}
	if err := G.Let(n.labels, dense(labels, len(labels), 1)); err != nil {
		return 0, err
	}
	n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("train: run graph: %w", err)
	}
	return scalar(n.loss.Value())
}

// correct counts the rows whose prediction matches the label: logit > 0
// (probability > 0.5) for a sigmoid head, argmax for a softmax head.
func (n *net[T]) correct(labels []T) (int, error) {
	z, err := data[T](n.logits.Value())
	if err != nil {
		return 0, err
	}
	return countCorrect(z, labels, n.batch, n.lossK.u), nil
}

// countCorrect counts the rows of logits z [n, u] whose prediction matches
// the label: logit > 0 (probability > 0.5) for a sigmoid head, argmax for
// a softmax head.
func countCorrect[T float32 | float64](z, labels []T, n, u int) int {
	c := 0
	for i := 0; i < n; i++ {
		var pred int
		if u == 1 {
			if z[i] > 0 {
				pred = 1
			}
		} else {
			row := z[i*u : (i+1)*u]
			for j := range row {
				if row[j] > row[pred] {
					pred = j
				}
			}
		}
		if T(pred) == labels[i] {
			c++
		}
	}
	return c
}
