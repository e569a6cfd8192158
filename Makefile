# systemd-workload-operator. The two commands a newcomer needs:
#   make demo   - a local cluster with 3 real systemd nodes running the examples
#   make test   - lint, type-check, unit, integration and end-to-end tests
SHELL := /bin/bash
export NODE_OPTIONS := --experimental-vm-modules
JEST := npx jest
# Integration and e2e tests each start a real control plane and systemd nodes.
JEST_WORKERS ?= 2

.PHONY: all deps k8s-binaries build lint typecheck crds test test-unit test-integration test-e2e test-nodes demo demo-down bench clean

all: build

deps:
	@hack/install-deps.sh

k8s-binaries: deps
	@hack/k8s/build.sh >/dev/null

build: deps
	npx tsc -p tsconfig.json
	chmod +x dist/src/cli/main.js

lint: deps
	npx eslint .

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

crds: build
	node dist/hack/gen-crds.js

test: deps k8s-binaries build lint test-unit test-integration test-e2e

test-unit: deps
	$(JEST) --selectProjects unit

test-integration: deps k8s-binaries build
	$(JEST) --selectProjects integration --maxWorkers=$(JEST_WORKERS) --forceExit

# The kubelet node suites (test/e2e/nodes, part of test-e2e) deploy the project's
# image: `make image` builds it where they look (SDW_IMAGE_ARCHIVE overrides).
NODE_IMAGE := $(if $(wildcard hack/image/build.sh),image)

test-e2e: deps k8s-binaries build $(NODE_IMAGE)
	$(JEST) --selectProjects e2e --maxWorkers=$(JEST_WORKERS) --forceExit

# Nodes with a real kubelet and containerd: the operator as its DaemonSet and
# Deployment, pod-token node identity, a 2-minute partition. One file at a time.
test-nodes: deps k8s-binaries build $(NODE_IMAGE)
	$(JEST) --selectProjects e2e --testPathPatterns test/e2e/nodes --maxWorkers=1 --forceExit

demo: deps k8s-binaries build
	node dist/hack/demo.js up

demo-down:
	@if [ -f dist/hack/demo.js ]; then node dist/hack/demo.js down; else rm -rf .demo; fi

clean:
	rm -rf dist coverage

# Benchmarks (issue 4/8): N units onto one sandbox node, agent vs floor vs naive.
# Results: bench/results/node-apply.{json,md}. Env: BENCH_N BENCH_REPS BENCH_NAIVE_REPS BENCH_LARGE BENCH_LARGE_REPS.
.PHONY: bench-node-apply
bench: bench-node-apply

bench-node-apply: deps k8s-binaries
	npx tsc -p tsconfig.json
	node dist/bench/node-apply.js

# Benchmarks of issue 8 beside node-apply; each also runs alone (node dist/bench/<name>.js)
# and shrinks by env (see each file's header). `make bench` ends with bench/results/summary.json.
.PHONY: bench-build bench-fanout bench-idle bench-crash bench-footprint bench-timers bench-client-reuse bench-create-cost bench-summary
bench: bench-fanout bench-create-cost bench-idle bench-crash bench-footprint bench-timers bench-client-reuse bench-summary

bench-build: deps k8s-binaries
	npx tsc -p tsconfig.json

bench-fanout: bench-build
	node dist/bench/fanout.js

bench-idle: bench-build
	node dist/bench/idle.js

bench-crash: bench-build
	node dist/bench/crash.js

bench-footprint: bench-build
	node dist/bench/footprint.js

bench-timers: bench-build
	node dist/bench/timers.js

bench-client-reuse: bench-build
	node dist/bench/client-reuse.js

bench-create-cost: bench-build
	node dist/bench/create-cost.js

# Runs after every benchmark (make runs a target's prerequisites in order without -j).
bench-summary: bench-build
	node dist/bench/summary.js
