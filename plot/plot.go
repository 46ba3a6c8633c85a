package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/birnn/birnn/internal/atomicfile"
	"github.com/birnn/birnn/model"
)

// Errors wrapped by Curves and Compare.
var (
	ErrEmpty  = errors.New("plot: no epochs to draw")
	ErrMetric = errors.New("plot: unknown metric")
	ErrInput  = errors.New("plot: invalid input")
)

// Metric families Compare draws: each gives an accuracy panel above a loss
// panel.
const (
	MetricValidation = "validation" // val_accuracy and val_loss (also "val", or "")
	MetricTrain      = "train"      // accuracy and loss on the training batches
)

// Figure size: matplotlib's figsize=(10, 9) at 100 dpi.
const (
	figWidth  = 10 * vg.Inch
	figHeight = 9 * vg.Inch
	figDPI    = 100
)

// palette is matplotlib's default colour cycle (tab10), as the study's
// figures use it.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// Series is one run of a comparison: its legend label and its history.
type Series struct {
	Label   string
	History *model.History
}

// line is one curve of a panel.
type line struct {
	label string
	ys    []float64
}

// Curves draws one run's accuracy (top panel) and loss (bottom panel)
// against the epoch, train and validation, to a PNG at path. The
// validation curves are left out when h has none. title heads the figure
// (none when empty).
//
// Errors: a nil or empty history (ErrEmpty), series of mismatched lengths
// (model.ErrHistory), NaN or infinite values, or a failed write.
func Curves(h *model.History, title, path string) error {
	if h == nil || h.Epochs() == 0 {
		return fmt.Errorf("%w: the history is empty", ErrEmpty)
	}
	if err := h.Validate(); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	acc := []line{{"train", h.Accuracy}}
	loss := []line{{"train", h.Loss}}
	if len(h.ValAccuracy) > 0 {
		acc = append(acc, line{"validation", h.ValAccuracy})
		loss = append(loss, line{"validation", h.ValLoss})
	}
	return render(path, title,
		panel{title: "accuracy", ylabel: "accuracy", lines: acc},
		panel{title: "loss", ylabel: "loss", lines: loss})
}

// Compare draws several runs in one figure, one line per run: for
// MetricValidation (the default; "val" and "" also select it) val_accuracy
// on top and val_loss below, for MetricTrain accuracy and loss. This is the
// study's comparison of the three deep-BiLSTM runs ("Adam simple",
// "RMSProp dropout 0.2", "Adam dropout 0.2"). Runs may have different
// numbers of epochs; an empty label becomes "run N".
//
// Errors: no runs, a run with a nil or empty history (ErrEmpty) or no
// validation metrics when they are asked for (ErrInput), inconsistent
// lengths (model.ErrHistory), an unknown metric (ErrMetric), NaN or
// infinite values, or a failed write.
func Compare(runs []Series, metric, path string) error {
	if len(runs) == 0 {
		return fmt.Errorf("%w: no runs to compare", ErrEmpty)
	}
	var val bool
	switch metric {
	case "", "val", MetricValidation:
		val = true
	case MetricTrain:
	default:
		return fmt.Errorf("%w %q (want %s or %s)", ErrMetric, metric, MetricValidation, MetricTrain)
	}
	var acc, loss []line
	for i, r := range runs {
		label := r.Label
		if label == "" {
			label = "run " + strconv.Itoa(i+1)
		}
		h := r.History
		if h == nil || h.Epochs() == 0 {
			return fmt.Errorf("%w: run %q has no epochs", ErrEmpty, label)
		}
		if err := h.Validate(); err != nil {
			return fmt.Errorf("plot: run %q: %w", label, err)
		}
		if val {
			if len(h.ValAccuracy) == 0 {
				return fmt.Errorf("%w: run %q has no validation metrics (trained without validation_split?)", ErrInput, label)
			}
			acc = append(acc, line{label, h.ValAccuracy})
			loss = append(loss, line{label, h.ValLoss})
		} else {
			acc = append(acc, line{label, h.Accuracy})
			loss = append(loss, line{label, h.Loss})
		}
	}
	which := "train"
	if val {
		which = "validation"
	}
	return render(path, "",
		panel{title: which + " accuracy", ylabel: "accuracy", lines: acc},
		panel{title: which + " loss", ylabel: "loss", lines: loss})
}

// panel is one of the two stacked plots.
type panel struct {
	title, ylabel string
	lines         []line
}

func (pn panel) plot() (*gplot.Plot, error) {
	p := gplot.New()
	p.Title.Text = pn.title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = pn.ylabel
	p.X.Tick.Marker = epochTicks{}
	p.Y.Tick.Marker = valueTicks{}
	p.Add(plotter.NewGrid())
	epochs := 0
	for i, l := range pn.lines {
		xys := make(plotter.XYs, len(l.ys))
		for e, y := range l.ys {
			if math.IsNaN(y) || math.IsInf(y, 0) {
				return nil, fmt.Errorf("%w: %s of %q at epoch %d is %g", ErrInput, pn.ylabel, l.label, e+1, y)
			}
			xys[e] = plotter.XY{X: float64(e + 1), Y: y}
		}
		ln, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("plot: %s of %q: %w", pn.ylabel, l.label, err)
		}
		c := palette[i%len(palette)]
		ln.Color, ln.Width = c, vg.Points(2)
		pts.Color, pts.Shape, pts.Radius = c, draw.CircleGlyph{}, vg.Points(3)
		p.Add(ln, pts)
		p.Legend.Add(l.label, ln, pts)
		epochs = max(epochs, len(l.ys))
	}
	// Margins keep the end points' markers inside the frame.
	xpad := 0.03 * float64(epochs-1)
	if epochs == 1 {
		xpad = 0.5
	}
	p.X.Min, p.X.Max = 1-xpad, float64(epochs)+xpad
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range pn.lines {
		for _, y := range l.ys {
			lo, hi = min(lo, y), max(hi, y)
		}
	}
	ypad := 0.08 * (hi - lo)
	if ypad == 0 {
		ypad = max(0.05*math.Abs(hi), 0.01)
	}
	p.Y.Min, p.Y.Max = lo-ypad, hi+ypad
	p.Legend.Top, p.Legend.Left = legendCorner(pn.lines, p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), vg.Points(8)
	if !p.Legend.Left {
		p.Legend.XOffs = -vg.Points(8)
	}
	if p.Legend.Top {
		p.Legend.YOffs = -vg.Points(8)
	}
	return p, nil
}

// legendCorner picks the corner whose legend-sized box the curves cross
// least, in the order upper right, lower right, upper left, lower left —
// matplotlib's loc="best", roughly.
func legendCorner(lines []line, x0, x1, y0, y1 float64) (top, left bool) {
	const w = 0.32
	h := 0.04 + 0.05*float64(len(lines))
	corners := []struct{ top, left bool }{{true, false}, {false, false}, {true, true}, {false, true}}
	best, bestN := 0, math.MaxInt
	for i, c := range corners {
		n := 0
		for _, l := range lines {
			for e := range l.ys {
				// Sample the segment from epoch e to e+1 (or the lone point).
				steps := 1
				if e+1 < len(l.ys) {
					steps = 40
				}
				for s := range steps {
					f := float64(s) / 40
					y := l.ys[e]
					if e+1 < len(l.ys) {
						y += f * (l.ys[e+1] - l.ys[e])
					}
					u := (float64(e+1) + f - x0) / (x1 - x0)
					v := (y - y0) / (y1 - y0)
					inX := (c.left && u < w) || (!c.left && u > 1-w)
					inY := (c.top && v > 1-h) || (!c.top && v < h)
					if inX && inY {
						n++
					}
				}
			}
		}
		if n < bestN {
			best, bestN = i, n
		}
	}
	return corners[best].top, corners[best].left
}

// epochTicks labels whole epochs only, about ten at most.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []gplot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	step := max(1, (last-first+9)/10)
	var ts []gplot.Tick
	for e := first; e <= last; e += step {
		ts = append(ts, gplot.Tick{Value: float64(e), Label: strconv.Itoa(e)})
	}
	return ts
}

// valueTicks labels four to eight round values (steps of 1, 2 or 5 × 10ⁿ), so
// the grid is dense enough to read accuracies off it.
type valueTicks struct{}

func (valueTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(hi > lo) {
		return []gplot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	raw := (hi - lo) / 8
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := max(0, -int(math.Floor(math.Log10(step))))
	var ts []gplot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ts = append(ts, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
	}
	return ts
}

// render draws the panels stacked top to bottom, under an optional figure
// title, and writes the PNG atomically.
func render(path, title string, panels ...panel) error {
	plots := make([][]*gplot.Plot, len(panels))
	for i, pn := range panels {
		p, err := pn.plot()
		if err != nil {
			return err
		}
		plots[i] = []*gplot.Plot{p}
	}
	img := vgimg.NewWith(vgimg.UseWH(figWidth, figHeight), vgimg.UseDPI(figDPI))
	dc := draw.New(img)
	// White background: PNG viewers show transparency as black or checks.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	body := draw.Crop(dc, vg.Points(8), -vg.Points(16), vg.Points(8), -vg.Points(8))
	if title != "" {
		sty := plots[0][0].Title.TextStyle
		sty.Font.Size = vg.Points(18)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		top := vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(8)}
		dc.FillText(sty, top, title)
		body = draw.Crop(body, 0, 0, 0, -(sty.Height(title) + vg.Points(12)))
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Points(24), PadX: vg.Points(8)}
	canvases := gplot.Align(plots, tiles, body)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("plot: write %s: %w", path, err)
	}
	return nil
}
