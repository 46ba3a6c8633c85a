package train

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/model"
	G "gorgonia.org/gorgonia"
)

// ErrData is wrapped by errors about training or evaluation data that does
// not fit the model (empty, ragged, ids outside the vocabulary, bad labels).
var ErrData = errors.New("train: invalid data")

// Data is a padded, labelled set of sequences: X [n, seq] word ids, Y [n]
// labels (0/1 for a sigmoid head, the class index for a softmax head).
type Data struct {
	X dataset.Matrix
	Y []int32
}

// Len returns the number of rows.
func (d Data) Len() int { return d.X.Rows }

// Slice returns rows [i, j) sharing memory with d.
func (d Data) Slice(i, j int) Data {
	c := d.X.Cols
	return Data{X: dataset.Matrix{Rows: j - i, Cols: c, Data: d.X.Data[i*c : j*c]}, Y: d.Y[i:j]}
}

func (d Data) check(vocab, classes int) error {
	if d.X.Rows == 0 || d.X.Cols == 0 {
		return fmt.Errorf("%w: no rows", ErrData)
	}
	if len(d.X.Data) != d.X.Rows*d.X.Cols || len(d.Y) != d.X.Rows {
		return fmt.Errorf("%w: %d×%d ids and %d labels do not match", ErrData, d.X.Rows, d.X.Cols, len(d.Y))
	}
	for i, v := range d.X.Data {
		if v < 0 || int(v) >= vocab {
			return fmt.Errorf("%w: row %d holds id %d outside the vocabulary [0, %d)", ErrData, i/d.X.Cols, v, vocab)
		}
	}
	for i, y := range d.Y {
		if y < 0 || int(y) >= classes {
			return fmt.Errorf("%w: row %d has label %d, want 0…%d", ErrData, i, y, classes-1)
		}
	}
	return nil
}

// FitOptions control Fit. Zero values take the model's configuration.
type FitOptions struct {
	Epochs     int    // total epochs to reach (0 = cfg.Train.Epochs)
	Checkpoint string // written after every epoch; "" = none
	History    string // history.json written after every epoch; "" = none
	// Resume continues from Checkpoint when it exists: weights, optimizer
	// state, RNG state and history, so the result equals an uninterrupted
	// run's bit for bit.
	Resume   bool
	Progress io.Writer // Keras-like progress; nil = silent
	Live     bool      // redraw the progress bar in place (a terminal)
	// Validation, when set, is the validation set (Keras validation_data):
	// every row of d then trains and train.validation_split is not used.
	Validation *Data
	// State entries are saved in every checkpoint (a text source's
	// vocabulary, model.StateVocabulary).
	State map[string]string

	onStep func(epoch, step int) // test hook, after every training step
}

// runner holds what a fit or an evaluation reuses between batches: the
// graphs per batch size and the RNG.
type runner struct {
	m       *model.Model
	layers  []model.LayerSpec
	dropout []float64
	vocab   int
	dim     int
	classes int
	rng     *rand.Rand
	pcg     *rand.PCG
	nets    map[int]*net[float32] // training graphs by batch size
	rec     []*seqLayer[float32]  // recurrent layers, shared by every net
	infer   inferPass             // validation and Evaluate, without a tape
	inferX  inferLayers           // the same for GRU, SimpleRNN, pools and dropout
	ids     []int
	labels  []float32
}

func newRunner(m *model.Model, seed int64) (*runner, error) {
	if m == nil || m.Config == nil {
		return nil, errors.New("train: no model")
	}
	layers, err := model.Layers(m.Config)
	if err != nil {
		return nil, err
	}
	dropout := make([]float64, len(layers))
	for i := range layers {
		dropout[i] = m.Config.Model.Layers[i].RecurrentDropout
	}
	classes := layers[len(layers)-1].Units
	if classes == 1 {
		classes = 2
	}
	pcg := rand.NewPCG(uint64(seed), 0x6269726e6e) // "birnn"
	rng := rand.New(pcg)
	dim := m.Config.Model.Embedding.Dim
	return &runner{
		m: m, layers: layers, dropout: dropout,
		vocab: m.Config.Data.NumWords, dim: dim, classes: classes,
		pcg: pcg, rng: rng, nets: map[int]*net[float32]{},
		rec: newSeqLayers[float32](layers, dim, dropout, rng),
	}, nil
}

func (r *runner) source(name string) ([]float32, error) {
	p := r.m.Param(name)
	if p == nil {
		return nil, fmt.Errorf("train: model has no weight %q", name)
	}
	return p.Data, nil
}

// net returns the training graph for a batch shape.
func (r *runner) net(batch, seq int) (*net[float32], error) {
	if n, ok := r.nets[batch]; ok && n.seq == seq {
		return n, nil
	}
	n, err := buildNet(r.layers, r.rec, r.vocab, r.dim, r.source, batch, seq, true)
	if err != nil {
		return nil, err
	}
	r.nets[batch] = n
	return n, nil
}

// appendRows appends the ids of rows idx of d to ids, row after row, and
// their labels to labels.
func appendRows(ids []int, labels []float32, d Data, idx []int) ([]int, []float32) {
	seq := d.X.Cols
	for _, i := range idx {
		for _, v := range d.X.Data[i*seq : (i+1)*seq] {
			ids = append(ids, int(v))
		}
		labels = append(labels, float32(d.Y[i]))
	}
	return ids, labels
}

// batch runs rows idx of d through the training graph (forward and
// backward); it returns the summed loss and the number of correct
// predictions.
func (r *runner) batch(d Data, idx []int) (float64, int, error) {
	seq := d.X.Cols
	n, err := r.net(len(idx), seq)
	if err != nil {
		return 0, 0, err
	}
	r.ids, r.labels = appendRows(r.ids[:0], r.labels[:0], d, idx)
	loss, err := n.run(r.ids, r.labels)
	if err != nil {
		return 0, 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, 0, fmt.Errorf("train: loss is %v (diverged)", loss)
	}
	c, err := n.correct(r.labels)
	if err != nil {
		return 0, 0, err
	}
	return loss * float64(len(idx)), c, nil
}

// evaluate returns the mean loss and the accuracy of the model on d.
func (r *runner) evaluate(ctx context.Context, d Data, batch int) (float64, float64, error) {
	var sum float64
	var correct int
	idx := make([]int, 0, batch)
	for i := 0; i < d.Len(); i += batch {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		j := min(i+batch, d.Len())
		idx = idx[:0]
		for k := i; k < j; k++ {
			idx = append(idx, k)
		}
		l, c, err := r.inferBatch(d, idx)
		if err != nil {
			return 0, 0, err
		}
		sum += l
		correct += c
	}
	n := float64(d.Len())
	return sum / n, float64(correct) / n, nil
}

// Evaluate returns the mean loss and the accuracy of m on d (inference:
// no dropout), in batches of batch rows (0 = 128).
func Evaluate(ctx context.Context, m *model.Model, d Data, batch int) (loss, accuracy float64, err error) {
	if batch <= 0 {
		batch = 128
	}
	r, err := newRunner(m, 0)
	if err != nil {
		return 0, 0, err
	}
	if err := d.check(r.vocab, r.classes); err != nil {
		return 0, 0, err
	}
	return r.evaluate(ctx, d, batch)
}

// Fit trains m in place on d as Keras's model.fit(x, y, batch_size,
// epochs, validation_split, shuffle) does: the last ValidationSplit of the
// rows (taken before any shuffling) is the validation set, the training
// rows are reshuffled every epoch from the run's seeded RNG, and each batch
// is one optimizer step on the batch-mean loss. After every epoch the
// history and a checkpoint (weights, optimizer slots, RNG state) are
// written.
//
// Cancelling ctx (SIGINT) stops at the next batch and saves a checkpoint
// of the position inside the epoch (weights, optimizer and RNG state, the
// epoch's running metrics); a resumed run continues from there and ends
// with the same weights as an uninterrupted one. A run killed outright
// resumes from the last end-of-epoch checkpoint, with the same result.
// Fit then returns the history so far and ctx's error.
func Fit(ctx context.Context, m *model.Model, d Data, o FitOptions) (*model.History, error) {
	if m == nil || m.Config == nil {
		return nil, errors.New("train: no model")
	}
	tc := m.Config.Train
	epochs := o.Epochs
	if epochs <= 0 {
		epochs = tc.Epochs
	}
	if tc.BatchSize <= 0 {
		return nil, fmt.Errorf("train: batch_size %d must be > 0", tc.BatchSize)
	}
	if tc.ValidationSplit < 0 || tc.ValidationSplit >= 1 {
		return nil, fmt.Errorf("train: validation_split %g outside [0, 1)", tc.ValidationSplit)
	}
	r, err := newRunner(m, tc.Seed)
	if err != nil {
		return nil, err
	}
	if err := d.check(r.vocab, r.classes); err != nil {
		return nil, err
	}
	opt, err := NewOptimizer(tc.Optimizer)
	if err != nil {
		return nil, err
	}
	// Keras: split_at = int(num_samples * (1 - validation_split)).
	split := tc.ValidationSplit
	nTrain := int(float64(d.Len()) * (1 - split))
	if nTrain <= 0 {
		return nil, fmt.Errorf("%w: validation_split %g leaves no training rows of %d", ErrData, split, d.Len())
	}
	trainD, valD := d.Slice(0, nTrain), d.Slice(nTrain, d.Len())
	if o.Validation != nil {
		if err := o.Validation.check(r.vocab, r.classes); err != nil {
			return nil, fmt.Errorf("validation: %w", err)
		}
		nTrain, trainD, valD = d.Len(), d, *o.Validation
	}

	steps := (nTrain + tc.BatchSize - 1) / tc.BatchSize
	cb := newCallbacks(tc, opt, steps, epochs)
	hist := &model.History{}
	start := 0
	var resumed *model.Checkpoint
	if o.Resume && o.Checkpoint != "" {
		if _, err := os.Stat(o.Checkpoint); err == nil {
			ck, err := model.LoadCheckpoint(o.Checkpoint)
			if err != nil {
				return nil, fmt.Errorf("train: resume: %w", err)
			}
			if err := restore(m, r, opt, cb, ck); err != nil {
				return nil, fmt.Errorf("train: resume from %s: %w", o.Checkpoint, err)
			}
			h := ck.History.Clone()
			hist = &h
			start = ck.Epoch
			resumed = ck
		}
	}

	shuffle := tc.Shuffle == nil || *tc.Shuffle
	perm := make([]int, nTrain)
	for epoch := start; epoch < epochs && !cb.stopped; epoch++ {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "Epoch %d/%d\n", epoch+1, epochs)
		}
		began := time.Now()
		epochRNG, err := r.pcg.MarshalBinary()
		if err != nil {
			return hist, err
		}
		// A checkpoint saved mid-epoch: replay the epoch's shuffle from the
		// RNG state it started with, then continue from the saved step.
		var mid midEpoch
		if epoch == start && resumed != nil {
			if mid, err = readMidEpoch(resumed.State); err != nil {
				return hist, fmt.Errorf("train: resume: %w", err)
			}
			if mid.step > 0 {
				if err := r.pcg.UnmarshalBinary(mid.epochRNG); err != nil {
					return hist, fmt.Errorf("train: resume: %w", err)
				}
				epochRNG = mid.epochRNG
				began = began.Add(-time.Duration(mid.seconds * float64(time.Second)))
			}
		}
		for i := range perm {
			perm[i] = i
		}
		if shuffle {
			r.rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		}
		if mid.step > 0 {
			if err := r.pcg.UnmarshalBinary(mid.rng); err != nil {
				return hist, fmt.Errorf("train: resume: %w", err)
			}
		}
		bar := newProgress(o.Progress, o.Live, steps)
		lossSum, correct, seen := mid.lossSum, mid.correct, mid.seen
		interrupted := func(s int, err error) (*model.History, error) {
			bar.abort()
			if s > 0 && o.Checkpoint != "" {
				cur := midEpoch{step: s, epochRNG: epochRNG, lossSum: lossSum, correct: correct,
					seen: seen, seconds: time.Since(began).Seconds()}
				if serr := save(o.Checkpoint, m, r, opt, cb, epoch, hist, &cur, o.State); serr != nil {
					return hist, errors.Join(err, serr)
				}
			}
			return hist, err
		}
		for s := mid.step; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return interrupted(s, err)
			}
			idx := perm[s*tc.BatchSize : min((s+1)*tc.BatchSize, nTrain)]
			n, err := r.net(len(idx), d.X.Cols)
			if err != nil {
				return hist, err
			}
			l, c, err := r.batch(trainD, idx)
			if err != nil {
				return hist, fmt.Errorf("train: epoch %d step %d: %w", epoch+1, s+1, err)
			}
			if err := opt.Step(G.NodesToValueGrads(n.params)); err != nil {
				return hist, err
			}
			lossSum += l
			correct += c
			seen += len(idx)
			bar.step(s+1, lossSum/float64(seen), float64(correct)/float64(seen))
			if o.onStep != nil {
				o.onStep(epoch, s+1)
			}
		}
		loss, acc := lossSum/float64(seen), float64(correct)/float64(seen)
		valLoss, valAcc := math.NaN(), math.NaN()
		if valD.Len() > 0 {
			if valLoss, valAcc, err = r.evaluate(ctx, valD, tc.BatchSize); err != nil {
				if ctx.Err() != nil {
					return interrupted(steps, err)
				}
				return hist, err
			}
		}
		secs := time.Since(began).Seconds()
		hist.Append(loss, acc, valLoss, valAcc, secs)
		bar.done(secs, loss, acc, valLoss, valAcc)
		if _, err := cb.epochEnd(epoch, m, opt, loss, acc, valLoss, valAcc); err != nil {
			return hist, err
		}
		if o.History != "" {
			if err := hist.Write(o.History); err != nil {
				return hist, err
			}
		}
		if o.Checkpoint != "" {
			if err := save(o.Checkpoint, m, r, opt, cb, epoch+1, hist, nil, o.State); err != nil {
				return hist, err
			}
		}
	}
	return hist, nil
}

// midEpoch is the position of a run interrupted inside an epoch.
type midEpoch struct {
	step          int    // training steps done in the epoch (0 = none)
	epochRNG, rng []byte // RNG state at the epoch's start and now
	lossSum       float64
	correct, seen int
	seconds       float64
}

func (e *midEpoch) write(st map[string]string) {
	st["fit.step"] = strconv.Itoa(e.step)
	st["fit.epoch_rng"] = hex.EncodeToString(e.epochRNG)
	st["fit.loss_sum"] = strconv.FormatFloat(e.lossSum, 'g', -1, 64)
	st["fit.correct"] = strconv.Itoa(e.correct)
	st["fit.seen"] = strconv.Itoa(e.seen)
	st["fit.seconds"] = strconv.FormatFloat(e.seconds, 'g', -1, 64)
}

func readMidEpoch(st map[string]string) (midEpoch, error) {
	var e midEpoch
	if st["fit.step"] == "" {
		return e, nil
	}
	var errs [6]error
	e.step, errs[0] = strconv.Atoi(st["fit.step"])
	e.epochRNG, errs[1] = hex.DecodeString(st["fit.epoch_rng"])
	e.lossSum, errs[2] = strconv.ParseFloat(st["fit.loss_sum"], 64)
	e.correct, errs[3] = strconv.Atoi(st["fit.correct"])
	e.seen, errs[4] = strconv.Atoi(st["fit.seen"])
	e.seconds, errs[5] = strconv.ParseFloat(st["fit.seconds"], 64)
	e.rng, _ = hex.DecodeString(st["rng.pcg"])
	if err := errors.Join(errs[:]...); err != nil || e.step < 0 || e.seen < 0 {
		return e, fmt.Errorf("bad mid-epoch position in checkpoint: %v", err)
	}
	return e, nil
}

// save writes a checkpoint after epoch completed epochs; mid, when not nil,
// records a position inside the next epoch; extra entries are added to its
// State.
func save(path string, m *model.Model, r *runner, opt *Optimizer, cb *callbacks, epoch int, h *model.History, mid *midEpoch, extra map[string]string) error {
	st := opt.State()
	maps.Copy(st, extra)
	slots := append(opt.Slots(), cb.state(st)...)
	rs, err := r.pcg.MarshalBinary()
	if err != nil {
		return err
	}
	st["rng.pcg"] = hex.EncodeToString(rs)
	if mid != nil {
		mid.write(st)
	}
	return model.SaveCheckpoint(path, &model.Checkpoint{
		Model: m, Epoch: epoch, History: h.Clone(), Optimizer: slots, State: st,
	})
}

func restore(m *model.Model, r *runner, opt *Optimizer, cb *callbacks, ck *model.Checkpoint) error {
	if ck.Model == nil {
		return errors.New("checkpoint holds no model")
	}
	for _, p := range m.Params {
		q := ck.Model.Param(p.Name)
		if q == nil || len(q.Data) != len(p.Data) {
			return fmt.Errorf("checkpoint weight %q does not match the configured model", p.Name)
		}
		copy(p.Data, q.Data)
	}
	slots, err := cb.restore(ck.State, ck.Optimizer)
	if err != nil {
		return err
	}
	if err := opt.Restore(slots, ck.State); err != nil {
		return err
	}
	if s := ck.State["rng.pcg"]; s != "" {
		b, err := hex.DecodeString(s)
		if err == nil {
			err = r.pcg.UnmarshalBinary(b)
		}
		if err != nil {
			return fmt.Errorf("bad RNG state in checkpoint: %w", err)
		}
	}
	return nil
}
