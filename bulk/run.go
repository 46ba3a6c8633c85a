package bulk

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)

// Runners are the Beam runners Run knows: Prism in-process (the default),
// and the portable runners, which submit to a job service at
// RunOptions.Endpoint (a Flink or Spark job server, or Dataflow's through
// the universal runner).
var Runners = []string{"prism", "universal", "flink", "spark"}

// RunOptions choose the runner and pass Beam's own pipeline options.
type RunOptions struct {
	Runner   string // one of Runners; default "prism"
	Endpoint string // job service host:port (portable runners; Prism starts its own)
	// Beam sets Beam SDK flags by name (environment_type,
	// environment_config, job_name, ...), as the SDK's command line does.
	Beam map[string]string
}

// Run builds the job of o and runs it to completion on ro's runner.
func Run(ctx context.Context, o Options, ro RunOptions) error {
	if ro.Runner == "" {
		ro.Runner = "prism"
	}
	if !slices.Contains(Runners, ro.Runner) {
		return fmt.Errorf("bulk: runner %q: want one of %s", ro.Runner, strings.Join(Runners, ", "))
	}
	for k, v := range ro.Beam {
		if flag.Lookup(k) == nil {
			return fmt.Errorf("bulk: no Beam option %q", k)
		}
		if err := flag.Set(k, v); err != nil {
			return fmt.Errorf("bulk: Beam option %s=%s: %w", k, v, err)
		}
	}
	if ro.Endpoint != "" {
		*jobopts.Endpoint = ro.Endpoint
	} else if ro.Runner != "prism" {
		return fmt.Errorf("bulk: runner %s needs a job endpoint", ro.Runner)
	}
	if !beam.Initialized() {
		beam.Init()
	}
	p, s := beam.NewPipelineWithRoot()
	if err := Build(s, o); err != nil {
		return err
	}
	var err error
	if ro.Runner == "prism" {
		_, err = prism.Execute(ctx, p)
	} else {
		_, err = beam.Run(ctx, ro.Runner, p)
	}
	if err != nil {
		return fmt.Errorf("bulk: %w", err)
	}
	return nil
}
