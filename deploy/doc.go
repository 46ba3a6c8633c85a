// Package deploy holds birnn's deployment files — the multi-stage
// Dockerfile, a plain Kubernetes Deployment and Service
// (kubernetes.yaml) and a KServe InferenceService (kserve.yaml) — and the
// test that checks the ports, flags and probe paths they name against
// birnn serve's own. It has no code.
package deploy
