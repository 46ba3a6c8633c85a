// Package plot draws the figures of the study as PNG files with
// gonum.org/v1/plot: the accuracy and loss of one run per epoch (Curves),
// and one metric family compared across runs (Compare).
//
// Both figures are two stacked panels, accuracy on top and loss below, as
// the study's matplotlib cells draw them (plt.figure(figsize=(10, 9)),
// subplot(211) and subplot(212)): 1000×900 pixels, a title per panel, axis
// labels, a legend and a grid. Epochs are numbered from 1.
//
//	model.History (history.json) ─Curves→  curves.png  (train vs validation)
//	[]Series{label, *History}    ─Compare→ compare.png (one line per run)
//
// Files are written atomically: a temporary file in the same folder,
// fsync, rename.
//
// What it does not do: compute metrics (they come from model.History) or
// decide which runs to compare (study.Compared does).
package plot
