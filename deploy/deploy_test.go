package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/score"
	"github.com/birnn/birnn/serve"
	"github.com/birnn/birnn/serve/servetest"
)

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	StartupProbe   *probe `yaml:"startupProbe"`
}

type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
		Template struct {
			Spec struct {
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Predictor struct {
			Containers []container `yaml:"containers"`
		} `yaml:"predictor"`
		Ports []struct {
			Port       int `yaml:"port"`
			TargetPort int `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

func manifests(t *testing.T, path string) []manifest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(false)
	var out []manifest
	for {
		var m manifest
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
}

// serveFlags are the flags birnn serve takes: the keys of serve.Config and
// of birnn serve's own settings, with - for _.
func serveFlags() map[string]bool {
	flags := map[string]bool{"model": true, "model-repository": true, "word-index": true, "config": true}
	rt := reflect.TypeFor[serve.Config]()
	for i := range rt.NumField() {
		if tag := rt.Field(i).Tag.Get("mapstructure"); tag != "" {
			flags[strings.ReplaceAll(tag, "_", "-")] = true
		}
	}
	return flags
}

// argPorts checks every --flag=value of args is one of birnn serve's and
// returns the ports of --addr and --grpc-addr.
func argPorts(t *testing.T, what string, args []string) (httpPort, grpcPort string) {
	t.Helper()
	flags := serveFlags()
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !flags[name] {
			t.Errorf("%s: %q is not a birnn serve flag", what, a)
			continue
		}
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			i++
			val = args[i]
		}
		switch name {
		case "addr", "grpc-addr":
			_, port, err := net.SplitHostPort(val)
			if err != nil {
				t.Errorf("%s: --%s %q: %v", what, name, val, err)
			}
			if name == "addr" {
				httpPort = port
			} else {
				grpcPort = port
			}
		}
	}
	if httpPort == "" {
		t.Errorf("%s: no --addr", what)
	}
	return httpPort, grpcPort
}

// liveServer serves a small model; the probe paths are asked of it.
func liveServer(t *testing.T) *serve.Server {
	t.Helper()
	p := servetest.Tiny(1)
	model, wiPath, err := p.Write(t.TempDir(), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	wi, err := dataset.LoadWordIndex(wiPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(serve.DefaultConfig(), serve.FileLoader(model, wi, score.Options{}), nil)
	return servetest.Started(t, s, err)
}

func checkProbes(t *testing.T, what string, s *serve.Server, c container, httpPort string) {
	t.Helper()
	for kind, pr := range map[string]*probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
		if pr == nil {
			if kind != "startup" {
				t.Errorf("%s: no %s probe", what, kind)
			}
			continue
		}
		want := map[string]string{"readiness": "/v2/health/ready", "liveness": "/v2/health/live", "startup": "/v2/health/ready"}[kind]
		if pr.HTTPGet.Path != want {
			t.Errorf("%s: %s probe on %q, want the protocol's %s", what, kind, pr.HTTPGet.Path, want)
		}
		if itoa(pr.HTTPGet.Port) != httpPort {
			t.Errorf("%s: %s probe on port %d, the server listens on %s", what, kind, pr.HTTPGet.Port, httpPort)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", pr.HTTPGet.Path, nil))
		var body map[string]bool
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			t.Errorf("%s: %s probe GET %s: %d %s", what, kind, pr.HTTPGet.Path, rec.Code, rec.Body)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func containerPorts(c container) []string {
	var out []string
	for _, p := range c.Ports {
		out = append(out, itoa(p.ContainerPort))
	}
	return out
}

func TestKubernetesDeployment(t *testing.T) {
	s := liveServer(t)
	ms := manifests(t, "kubernetes.yaml")
	var dep, svc *manifest
	for i := range ms {
		switch ms[i].Kind {
		case "Deployment":
			dep = &ms[i]
		case "Service":
			svc = &ms[i]
		}
	}
	if dep == nil || svc == nil || dep.APIVersion != "apps/v1" || len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one apps/v1 Deployment with one container and a Service: %+v", ms)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	httpPort, grpcPort := argPorts(t, "Deployment", c.Args)
	if grpcPort == "" {
		t.Error("Deployment: no --grpc-addr")
	}
	if got := containerPorts(c); !slices.Equal(got, []string{httpPort, grpcPort}) {
		t.Errorf("Deployment: container ports %v, the server listens on %s and %s", got, httpPort, grpcPort)
	}
	var targets []string
	for _, p := range svc.Spec.Ports {
		targets = append(targets, itoa(p.TargetPort))
	}
	if !slices.Equal(targets, []string{httpPort, grpcPort}) {
		t.Errorf("Service: target ports %v, want %s and %s", targets, httpPort, grpcPort)
	}
	checkProbes(t, "Deployment", s, c, httpPort)
}

func TestKServeInferenceService(t *testing.T) {
	s := liveServer(t)
	ms := manifests(t, "kserve.yaml")
	if len(ms) != 1 || ms[0].Kind != "InferenceService" || ms[0].APIVersion != "serving.kserve.io/v1beta1" || len(ms[0].Spec.Predictor.Containers) != 1 {
		t.Fatalf("want one serving.kserve.io/v1beta1 InferenceService with one predictor container: %+v", ms)
	}
	c := ms[0].Spec.Predictor.Containers[0]
	httpPort, _ := argPorts(t, "InferenceService", c.Args)
	if got := containerPorts(c); len(got) != 1 || got[0] != httpPort {
		t.Errorf("InferenceService: container port %v, the server listens on %s", got, httpPort)
	}
	checkProbes(t, "InferenceService", s, c, httpPort)
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms, users, exposes []string
	var cmd, entry []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch rest := strings.TrimSpace(strings.TrimPrefix(line, f[0])); f[0] {
		case "FROM":
			froms = append(froms, f[1])
		case "USER":
			users = append(users, rest)
		case "EXPOSE":
			exposes = append(exposes, f[1:]...)
		case "CMD", "ENTRYPOINT":
			var v []string
			if err := json.Unmarshal([]byte(rest), &v); err != nil {
				t.Fatalf("%s %s: not the exec form: %v", f[0], rest, err)
			}
			if f[0] == "CMD" {
				cmd = v
			} else {
				entry = v
			}
		}
	}
	if len(froms) < 2 {
		t.Errorf("stages %v: want a build stage and a runtime stage", froms)
	}
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if len(froms) == 0 || goVersion == nil || froms[0] != "golang:"+string(goVersion[1]) {
		t.Errorf("build stage %v, want golang:%s as go.mod says", froms, goVersion[1])
	}
	if !strings.Contains(string(b), "CGO_ENABLED=0") {
		t.Error("the binary is not built static (CGO_ENABLED=0)")
	}
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1], "0") || strings.HasPrefix(users[len(users)-1], "root") {
		t.Errorf("runtime user %v: want a non-root user", users)
	}
	if !slices.Equal(entry, []string{"/usr/local/bin/birnn", "serve"}) {
		t.Errorf("ENTRYPOINT %v", entry)
	}
	httpPort, grpcPort := argPorts(t, "Dockerfile CMD", cmd)
	if !slices.Equal(exposes, []string{httpPort, grpcPort}) {
		t.Errorf("EXPOSE %v, the server listens on %s and %s", exposes, httpPort, grpcPort)
	}
}
