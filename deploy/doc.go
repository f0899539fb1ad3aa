// Package deploy holds how dlayer runs beyond one command line: the
// Kubernetes manifests of dlayer serve (kubernetes/), the Grafana
// dashboard (grafana/), the alert rules' unit tests (prometheus/) and the
// systemd timers that write node_exporter textfiles (systemd/). Its tests
// check them: the manifests decoded strictly into the Kubernetes and
// Prometheus operator API types, the rules and the dashboard's queries
// with promtool, the units with systemd-analyze and by running their
// command lines.
package deploy
