package train

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// progress prints Keras's fit progress: with live, a bar redrawn in place
// with \r after every step,
//
//	42/137 [=========>....................] - ETA: 9s - loss: 0.5210 - accuracy: 0.7420
//
// and at the end of the epoch, live or not, the Keras summary line
//
//	137/137 [==============================] - 12s 88ms/step - loss: 0.4100 - accuracy: 0.8100 - val_loss: 0.3900 - val_accuracy: 0.8300
type progress struct {
	w      io.Writer
	live   bool
	steps  int
	start  time.Time
	last   time.Time
	prefix int
}

func newProgress(w io.Writer, live bool, steps int) *progress {
	now := time.Now()
	return &progress{w: w, live: live, steps: steps, start: now, last: now}
}

func (p *progress) bar(step int) string {
	const width = 30
	digits := len(fmt.Sprint(p.steps))
	filled := width * step / p.steps
	var b strings.Builder
	fmt.Fprintf(&b, "%*d/%d [", digits, step, p.steps)
	switch {
	case filled >= width:
		b.WriteString(strings.Repeat("=", width))
	case filled > 0:
		b.WriteString(strings.Repeat("=", filled-1) + ">" + strings.Repeat(".", width-filled))
	default:
		b.WriteString(">" + strings.Repeat(".", width-1))
	}
	b.WriteString("]")
	return b.String()
}

func (p *progress) step(step int, loss, acc float64) {
	if p.w == nil || !p.live {
		return
	}
	now := time.Now()
	if step < p.steps && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	per := now.Sub(p.start) / time.Duration(step)
	eta := per * time.Duration(p.steps-step)
	line := fmt.Sprintf("%s - ETA: %s - loss: %.4f - accuracy: %.4f", p.bar(step), fmtETA(eta), loss, acc)
	pad := ""
	if n := p.prefix - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.prefix = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

func fmtETA(d time.Duration) string {
	s := int(math.Round(d.Seconds()))
	switch {
	case s >= 3600:
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	case s >= 60:
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

func (p *progress) done(secs, loss, acc, valLoss, valAcc float64) {
	if p.w == nil {
		return
	}
	line := fmt.Sprintf("%s - %.0fs %.0fms/step - loss: %.4f - accuracy: %.4f",
		p.bar(p.steps), secs, 1000*secs/float64(p.steps), loss, acc)
	if !math.IsNaN(valLoss) {
		line += fmt.Sprintf(" - val_loss: %.4f - val_accuracy: %.4f", valLoss, valAcc)
	}
	pad := ""
	if n := p.prefix - len(line); n > 0 && p.live {
		pad = strings.Repeat(" ", n)
	}
	if p.live {
		fmt.Fprintf(p.w, "\r%s%s\n", line, pad)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// abort ends a live bar's line so later output starts on a fresh one.
func (p *progress) abort() {
	if p.w != nil && p.live && p.prefix > 0 {
		fmt.Fprintln(p.w)
	}
}
