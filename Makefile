# systemd-workload-operator. The two commands a newcomer needs:
#   make demo   - a local cluster with 3 real systemd nodes running the examples
#   make test   - lint, type-check, unit, integration and end-to-end tests
#                 (all but the heavy suites, HEAVY_TESTS, which `make test-heavy` runs)
SHELL := /bin/bash
export NODE_OPTIONS := --experimental-vm-modules
JEST := npx jest
# Integration and e2e tests each start a real control plane and systemd nodes.
JEST_WORKERS ?= 2
# More jest arguments for every jest run below (e.g. JEST_ARGS=--bail or JEST_ARGS=--testNamePattern=...).
JEST_ARGS ?=
# Set (bench/make-test.ts does), each jest run below also writes its results, per test file, as
# jest --json to $(JEST_JSON_DIR)/<make target>.json (the directory must exist).
JEST_JSON_DIR ?=
JEST_OUT = $(if $(JEST_JSON_DIR),--json --outputFile=$(JEST_JSON_DIR)/$@.json)
# The heavy suites (issue 18): kubelet nodes deploying the image (test/e2e/nodes/), the VM node
# under software emulation (test/e2e/vm/), the fault scenarios that wait out outages and
# partitions (test/e2e/faults/, test/e2e/agent/faults.test.ts, and test/e2e/agent/backoff.test.ts,
# a unit's dependency missing for a minute while the agent backs off), the image build
# (test/integration/image/) and the kubelet nodes' teardown. `make test` leaves them out,
# `make test-heavy` runs exactly them, one file at a time; CI runs both (.ci/run).
# A jest path regex (matched against each test file's absolute path).
HEAVY_TESTS := test/e2e/(nodes|vm|faults)/|test/e2e/agent/(faults|backoff)\.test\.ts$$|test/integration/image/|test/integration/harness/kubelet-teardown\.test\.ts$$

.PHONY: all deps k8s-binaries helm kstatus cron-oracle vm-image build lint format typecheck crds test test-heavy test-all test-unit test-integration test-e2e test-vm test-nodes demo demo-down bench clean

# The image `make image` builds and `make deploy` runs (config/ and the chart default to it).
IMG ?= ghcr.io/example/systemd-workload-operator:0.1.0
# kubectl for install/deploy/run: the one on PATH, else the one make k8s-binaries builds.
include hack/k8s/versions.env
SDW_CACHE ?= $(HOME)/.cache/systemd-workload-operator
CACHED_KUBECTL := $(SDW_CACHE)/k8s-$(K8S_VERSION)-etcd-$(ETCD_VERSION)/bin/kubectl
KUBECTL ?= $(or $(shell command -v kubectl),$(CACHED_KUBECTL))

all: build

deps:
	@hack/install-deps.sh

k8s-binaries: deps
	@hack/k8s/build.sh >/dev/null

# The Debian 12 guest image of the cgroup v2 VM nodes (test/harness/vmNode.ts),
# cached by a hash of its inputs under ~/.cache/systemd-workload-operator/vm/;
# installs qemu-system-x86, mmdebstrap, qemu-utils on first use.
vm-image:
	@hack/vm/build-image.sh >/dev/null

# helm, built from the Go module proxy into the cache (the chart's tests use it).
helm: deps
	@hack/helm/build.sh >/dev/null

# kstatus (sigs.k8s.io/cli-utils, the status library of Flux and helm --wait),
# built from the Go module proxy into the cache: the health e2e test asks it.
kstatus: deps
	@hack/kstatus/build.sh >/dev/null

# The cron oracle (robfig/cron v3, as Kubernetes CronJob), built from the Go module
# proxy into the cache: the schedule tests compare OnCalendar= against it.
cron-oracle: deps
	@hack/cron-oracle/build.sh >/dev/null

build: deps
	npx tsc -p tsconfig.json
	chmod +x dist/src/cli/main.js

# The kubectl-sdw archive krew installs and its krew manifest, generated from it
# (sha256 included): dist/plugin/kubectl-sdw_v<version>.tar.gz, dist/plugin/sdw.yaml.
.PHONY: plugin-archive
plugin-archive: build
	@hack/plugin/archive.sh

# Formatting (prettier, the code only: .prettierignore), then type-aware lint
# with complexity warnings. `make format` rewrites the files prettier would change.
lint: deps
	npx prettier --check --log-level=warn .
	npx eslint .

format: deps
	npx prettier --write --log-level=warn .

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

crds: build
	node dist/hack/gen-crds.js

# About 10 minutes warm on 2 cores (bench/make-test.ts measures it: make bench-make-test).
test: deps k8s-binaries build lint test-unit test-integration test-e2e

# The heavy suites alone (HEAVY_TESTS), one file at a time: each boots kubelet nodes, a VM
# or waits out a fault, and several at once on 2 cores time out. Needs the image and the VM image.
test-heavy: deps k8s-binaries helm kstatus cron-oracle vm-image image build
	$(JEST) --selectProjects integration e2e --maxWorkers=1 --forceExit --testPathPatterns '$(HEAVY_TESTS)' $(JEST_OUT) $(JEST_ARGS)

# Every test: what CI runs (.ci/run runs the two and prints the time of each).
test-all: test test-heavy

# JEST_WORKERS here too: jest's default on 2 cores is one worker (39 s against 17 s with two).
test-unit: deps
	$(JEST) --selectProjects unit --maxWorkers=$(JEST_WORKERS) $(JEST_OUT) $(JEST_ARGS)

test-integration: deps k8s-binaries helm cron-oracle build
	$(JEST) --selectProjects integration --maxWorkers=$(JEST_WORKERS) --forceExit --testPathIgnorePatterns '$(HEAVY_TESTS)' $(JEST_OUT) $(JEST_ARGS)

# controller, agents and kubectl against real control planes and namespace nodes; the
# heavy suites (test/e2e/nodes/, test/e2e/vm/, the faults) are test-heavy's.
test-e2e: deps k8s-binaries helm kstatus cron-oracle build
	$(JEST) --selectProjects e2e --maxWorkers=$(JEST_WORKERS) --forceExit --testPathIgnorePatterns '$(HEAVY_TESTS)' $(JEST_OUT) $(JEST_ARGS)

# Only the VM node suite: the agent on systemd as PID 1 with cgroup v2.
test-vm: deps k8s-binaries vm-image build
	$(JEST) --selectProjects e2e --maxWorkers=1 --forceExit --testPathPatterns test/e2e/vm/ $(JEST_OUT) $(JEST_ARGS)

# Nodes with a real kubelet and containerd: the operator as its DaemonSet and
# Deployment, pod-token node identity, a 2-minute partition. One file at a time.
# They deploy the image `make image` builds (SDW_IMAGE_ARCHIVE overrides).
test-nodes: deps k8s-binaries build image
	$(JEST) --selectProjects e2e --testPathPatterns test/e2e/nodes --maxWorkers=1 --forceExit $(JEST_OUT) $(JEST_ARGS)

demo: deps k8s-binaries build
	node dist/hack/demo.js up

demo-down:
	@if [ -f dist/hack/demo.js ]; then node dist/hack/demo.js down; else rm -rf .demo; fi

clean:
	rm -rf dist coverage

# The Dockerfile, built without Docker into an OCI archive (hack/image/build.sh
# prints its path); load it with `ctr -n k8s.io images import`,
# `skopeo copy oci-archive:PATH docker://REGISTRY/...` or `podman load -i PATH`.
.PHONY: image
image:
	@IMG='$(IMG)' hack/image/build.sh

# What operator users expect, against the current kubeconfig's cluster:
# install/uninstall the CRDs; deploy/undeploy config/default with IMG as the
# image (through a generated kustomize overlay, hack/deploy/overlay.sh).
.PHONY: install uninstall deploy undeploy run
$(CACHED_KUBECTL):
	hack/k8s/build.sh >/dev/null

install: $(KUBECTL)
	$(KUBECTL) apply --server-side -k config/crd

uninstall: $(KUBECTL)
	$(KUBECTL) delete --ignore-not-found -k config/crd

deploy: $(KUBECTL)
	@IMG='$(IMG)' hack/deploy/overlay.sh dist/deploy
	$(KUBECTL) apply --server-side -k dist/deploy

undeploy: $(KUBECTL)
	@IMG='$(IMG)' hack/deploy/overlay.sh dist/deploy
	$(KUBECTL) delete --ignore-not-found -k dist/deploy

# The controller from a laptop against the current kubeconfig (CRDs installed
# with make install). It keeps its leader Lease, and reads the agents' heartbeat
# Leases, in RUN_NAMESPACE (created if missing), as the deployed controller does
# in its own namespace: a laptop and an in-cluster controller take turns rather
# than both writing. ARGS adds flags (e.g. ARGS=--probe-port=9081).
RUN_NAMESPACE ?= systemd-workload-operator
run: deps build $(KUBECTL)
	$(KUBECTL) create namespace $(RUN_NAMESPACE) --dry-run=client -o yaml | $(KUBECTL) apply -f -
	POD_NAMESPACE=$(RUN_NAMESPACE) node dist/src/controller/main.js $(ARGS)

# Benchmarks (issue 4/8/18): N units onto one sandbox node, agent vs an independent floor.
# Results: bench/results/node-apply.{json,md}. Env: BENCH_N BENCH_REPS BENCH_LARGE BENCH_LARGE_REPS.
# The floor is bench/node-apply-floor.py (Debian's python3-dbus and python3-gi, installed by deps).
.PHONY: bench-node-apply
bench: bench-node-apply

bench-node-apply: deps k8s-binaries
	npx tsc -p tsconfig.json
	node dist/bench/node-apply.js

# Benchmarks of issue 8 beside node-apply; each also runs alone (node dist/bench/<name>.js)
# and shrinks by env (see each file's header). `make bench` ends with bench/results/summary.json.
.PHONY: bench-build bench-fanout bench-idle bench-idle5000 bench-crash bench-agent-imports bench-footprint bench-timers bench-client-reuse bench-create-cost bench-make-test bench-summary
bench: bench-fanout bench-create-cost bench-idle bench-idle5000 bench-crash bench-agent-imports bench-footprint bench-timers bench-client-reuse bench-make-test bench-summary

bench-build: deps k8s-binaries
	npx tsc -p tsconfig.json

# Issue 18: 1,000 and 5,000 simulated nodes, APF on, ours and the DaemonSet controller at 20 QPS and unthrottled.
bench-fanout: bench-build
	FANOUT_SIZES=1000,5000 FANOUT_REPS=1 node dist/bench/fanout.js

bench-idle: bench-build
	node dist/bench/idle.js

# Issue 18: 5,000 simulated nodes (+ the real node) x 10 workloads, 5 minutes idle, APF on.
bench-idle5000: bench-build
	IDLE_NODES=5000 IDLE_WORKLOADS=10 IDLE_MINUTES=5 IDLE_SETTLE_S=30 IDLE_REAL_NODE=1 IDLE_RESULT=idle5000 node dist/bench/idle.js

bench-crash: bench-build
	node dist/bench/crash.js

# What loading each candidate Kubernetes client costs the agent (issue 18; light, no cluster).
bench-agent-imports: bench-build
	node dist/bench/agent-imports.js

bench-footprint: bench-build
	node dist/bench/footprint.js

# 1,000 same-minute timers through the agent against the floor of starting as many units at once
# (bench/timers-floor.py, python3-dbus), in the same run on the same node (issue 18 #6); then the
# same with every timer at AccuracySec=1us, what the rendered 1s costs.
bench-timers: bench-build
	node dist/bench/timers.js

bench-client-reuse: bench-build
	node dist/bench/client-reuse.js

bench-create-cost: bench-build
	node dist/bench/create-cost.js

# Issue 18 #7: `make test` warm, as developers run it (wall time, each phase and test file);
# MAKE_TEST_HEAVY=1 also times `make test-heavy`. bench/results/make-test.{json,md}.
bench-make-test: bench-build
	node dist/bench/make-test.js

# Runs after every benchmark (make runs a target's prerequisites in order without -j).
bench-summary: bench-build
	node dist/bench/summary.js
