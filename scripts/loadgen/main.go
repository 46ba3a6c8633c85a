// Command loadgen drives a local birnn serve with concurrent clients and
// reports throughput and latency:
//
//	go run ./scripts/loadgen -url http://127.0.0.1:8080 -c 16 -n 2000 -duration 30s
//
// Each of -c clients sends POST /v1/score requests of -reviews reviews
// (or /v1/score/ids rows with -ids) until -n requests have been sent in
// total or -duration has passed, whichever comes first. It prints
// reviews/s, requests/s, latency percentiles and errors by status. Only
// loopback URLs are accepted: this is a benchmark tool, not a load test
// for other people's servers.
//
// With -raw-model (and -word-index for text), it then scores the same
// reviews straight through the engine in this process, in batches of
// -c × -reviews rows, for as many reviews as were served (or -duration),
// and prints that raw throughput and the ratio served/raw: how much of
// the engine's batch throughput the service delivers.
//
//	go run ./scripts/loadgen -c 64 -raw-model model.onnx -word-index imdb_word_index.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type options struct {
	url      string
	clients  int
	requests int
	duration time.Duration
	reviews  int
	ids      bool
	words    int
	seed     uint64
	warmup   int

	rawModel  string
	wordIndex string

	protocol string // v1, v2 (REST) or grpc
	model    string // v2 / gRPC model name
	grpcAddr string
}

func run(args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of birnn serve (loopback only)")
	fs.IntVar(&o.clients, "c", 16, "concurrent clients")
	fs.IntVar(&o.requests, "n", 2000, "total requests (upper bound)")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "longest run (upper bound)")
	fs.IntVar(&o.reviews, "reviews", 1, "reviews per request")
	fs.BoolVar(&o.ids, "ids", false, "send token ids to /v1/score/ids instead of text")
	fs.IntVar(&o.words, "words", 230, "words per synthetic review (the IMDB median is about 230)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic reviews")
	fs.IntVar(&o.warmup, "warmup", 0, "requests sent (and not measured) before the run")
	fs.StringVar(&o.rawModel, "raw-model", "", "ONNX model to score the same reviews with in this process, for served/raw")
	fs.StringVar(&o.wordIndex, "word-index", "", "Keras word index JSON for -raw-model (text requests)")
	fs.StringVar(&o.protocol, "protocol", "v1", "v1 (birnn's JSON API), v2 (Open Inference Protocol REST) or grpc (v2 over gRPC)")
	fs.StringVar(&o.model, "model", "", "model name for -protocol v2 and grpc (as GET /v1/model reports it)")
	fs.StringVar(&o.grpcAddr, "grpc-addr", "127.0.0.1:8081", "gRPC address for -protocol grpc (loopback only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopback(o.url); err != nil {
		return err
	}
	switch {
	case o.clients < 1 || o.clients > 1024:
		return fmt.Errorf("-c %d: want 1 to 1024 clients", o.clients)
	case o.requests < 1 || o.requests > 10_000_000:
		return fmt.Errorf("-n %d: want 1 to 10,000,000 requests", o.requests)
	case o.duration <= 0 || o.duration > time.Hour:
		return fmt.Errorf("-duration %s: want more than 0 and at most 1h", o.duration)
	case o.reviews < 1 || o.words < 1:
		return fmt.Errorf("-reviews and -words must be positive")
	}
	switch o.protocol {
	case "v1":
	case "v2", "grpc":
		if o.model == "" {
			return fmt.Errorf("-protocol %s needs -model NAME", o.protocol)
		}
		if o.ids {
			return fmt.Errorf("-ids is for -protocol v1")
		}
		if o.protocol == "grpc" {
			if err := checkLoopback("http://" + o.grpcAddr); err != nil {
				return fmt.Errorf("-grpc-addr: %w", err)
			}
		}
	default:
		return fmt.Errorf("-protocol %q: want v1, v2 or grpc", o.protocol)
	}
	if o.rawModel != "" && !o.ids && o.wordIndex == "" {
		return fmt.Errorf("-raw-model scores text: give the model's -word-index too")
	}
	var raw *rawScorer
	if o.rawModel != "" {
		var err error
		if raw, err = newRawScorer(o.rawModel, o.wordIndex, o.clients*o.reviews); err != nil {
			return err
		}
	}
	reqs := makeBodies(o, 64)
	bodies := reqs.bodies
	path := "/v1/score"
	if o.ids {
		path = "/v1/score/ids"
	}
	if o.protocol == "v2" {
		path = "/v2/models/" + url.PathEscape(o.model) + "/infer"
	}
	target := strings.TrimSuffix(o.url, "/") + path
	tr := &http.Transport{MaxIdleConns: o.clients, MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	do := func(ctx context.Context, k int64) (string, error) {
		code, _, err := send(ctx, client, target, bodies[k%int64(len(bodies))])
		if err != nil || code == http.StatusOK {
			return "", err
		}
		return fmt.Sprintf("HTTP %d", code), nil
	}
	switch o.protocol {
	case "v2":
		bodies = v2Bodies(o, reqs.texts)
	case "grpc":
		g, err := newGRPCSender(o, reqs.texts)
		if err != nil {
			return err
		}
		defer g.close()
		do = g.send
		target = "grpc://" + o.grpcAddr + " " + o.model
	}

	for i := range o.warmup {
		if st, err := do(context.Background(), int64(i)); err != nil || st != "" {
			return fmt.Errorf("warm-up: %v %s", err, st)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var next atomic.Int64
	lat := make([][]time.Duration, o.clients)
	statuses := make([]map[string]int, o.clients)
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	for c := range o.clients {
		statuses[c] = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := next.Add(1) - 1
				if k >= int64(o.requests) {
					return
				}
				t0 := time.Now()
				st, err := do(ctx, k)
				d := time.Since(t0)
				switch {
				case err != nil && (ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)):
					return // the run ended while this request was out: not counted
				case err != nil:
					statuses[c]["transport error"]++
				case st != "":
					statuses[c][st]++
				default:
					lat[c] = append(lat[c], d)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	clientCPU := cpuTime() - cpu0

	var all []time.Duration
	errs := map[string]int{}
	for c := range o.clients {
		all = append(all, lat[c]...)
		for k, v := range statuses[c] {
			errs[k] += v
		}
	}
	slices.Sort(all)
	nerr := 0
	for _, v := range errs {
		nerr += v
	}
	fmt.Fprintf(out, "target     %s (%d clients, %d reviews/request, %d words/review)\n", target, o.clients, o.reviews, o.words)
	fmt.Fprintf(out, "requests   %d ok, %d errors in %.2fs\n", len(all), nerr, elapsed.Seconds())
	fmt.Fprintf(out, "throughput %.1f reviews/s, %.1f requests/s\n",
		float64(len(all)*o.reviews)/elapsed.Seconds(), float64(len(all))/elapsed.Seconds())
	fmt.Fprintf(out, "client cpu %.2f cores (this process's own share of the machine during the run)\n",
		clientCPU.Seconds()/elapsed.Seconds())
	if len(all) > 0 {
		fmt.Fprintf(out, "latency    p50 %s  p90 %s  p99 %s  max %s\n",
			pct(all, 50), pct(all, 90), pct(all, 99), all[len(all)-1].Round(10*time.Microsecond))
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "errors     %s: %d\n", k, errs[k])
	}
	if raw != nil && len(all) > 0 {
		served := float64(len(all)*o.reviews) / elapsed.Seconds()
		n, d, err := raw.score(reqs.texts, reqs.ids, len(all)*o.reviews, o.duration)
		if err != nil {
			return fmt.Errorf("raw scoring: %w", err)
		}
		rawRate := float64(n) / d.Seconds()
		fmt.Fprintf(out, "raw        %.1f reviews/s (%d reviews in batches of %d, %s, in this process)\n",
			rawRate, n, raw.batch, o.rawModel)
		fmt.Fprintf(out, "served/raw %.3f\n", served/rawRate)
	}
	return nil
}

// checkLoopback refuses URLs whose host is not a loopback address or
// "localhost".
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-url %q: want http:// or https://", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %q: only loopback hosts (127.0.0.0/8, ::1, localhost) are allowed", raw)
	}
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i].Round(10 * time.Microsecond)
}

func send(ctx context.Context, client *http.Client, target string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// vocabulary is a few hundred common English words, enough to give the
// tokenizer and the word index realistic work.
var vocabulary = strings.Fields(`the a and of to is in it this that was as with for but film movie on not you are his have
he be one all at by an they who so from like her or just about out if has what some good can more when very up no time
even she my which would story only really see their had we there me than much well been get will do also into bad
people other great because most how first films made make could any way them after too character then characters watch
think acting its plot two did being seen many never life little love where best know show ever better over off still
say scene man scenes here why such something go through back should those while real watching now though thing years
actors makes director work funny nothing old before another new both find few going same lot part look end actually
again every us cast want quite pretty things world does around young take horror fact enough however got down big
thought give long series between may original without always action must saw gets comedy right almost role whole
interesting done music bit guy least far anything might minutes feel script since come performance girl probably`)

// corpus is the synthetic requests: their JSON bodies and, in order, the
// reviews (or id rows) they carry.
type corpus struct {
	bodies [][]byte
	texts  []string
	ids    [][]int32
}

// makeBodies prepares n request bodies of synthetic reviews (or ids).
func makeBodies(o options, n int) corpus {
	rng := rand.New(rand.NewPCG(o.seed, 7))
	var c corpus
	c.bodies = make([][]byte, n)
	for i := range c.bodies {
		var v any
		if o.ids {
			rows := make([][]int32, o.reviews)
			for r := range rows {
				row := []int32{1}
				for range o.words {
					row = append(row, int32(4+rng.IntN(3996)))
				}
				rows[r] = row
			}
			c.ids = append(c.ids, rows...)
			v = map[string]any{"ids": rows}
		} else {
			revs := make([]string, o.reviews)
			for r := range revs {
				w := make([]string, o.words)
				for k := range w {
					w[k] = vocabulary[rng.IntN(len(vocabulary))]
				}
				revs[r] = strings.Join(w, " ")
			}
			c.texts = append(c.texts, revs...)
			v = map[string]any{"reviews": revs}
		}
		c.bodies[i], _ = json.Marshal(v)
	}
	return c
}
