# Everything a fresh machine needs, installed on first use.
#   make run    set up (once) and serve the app on http://127.0.0.1:8050
#   make test   set up test needs (Chromium, espeak-ng, sox included) and run the suite
#   make bench  measure voice-to-voice latency against a freshly started server
#   make bench-page  measure the page in headless Chromium
#   make bench-line-ends  the replies model's odds that a line ends: finished lines against sentence starts
#   make bench-first-reply  the echo gate before it knows the path: a voice over the first reply, its echo
#   make bench-reply-pieces  the echo of replies whose sentences each sound at a delay of their own
#   make bench-phone  voice-to-voice over a phone call (scripted Twilio) and the µ-law cost
#   make bench-speech  the app around a speech-to-speech API (stand-ins): added latency, barge-in, faults
#   make soak   reliability figures: faults, leaks, malformed input, SIGKILL (docs/reliability.md)
#   make attack  the exposed server attacked, attack by attack (docs/reliability.md, Attacks)
#   make serve-simulated  the server with simulated providers, for load tests (QA)
#   make run-cluster  Redis, PostgreSQL, one app process per core and HAProxy on :8050
#   make bench-restart  a rolling restart under talking sessions: resumed, pause, turns lost
#   make bench-outage  Redis and PostgreSQL killed under the load tester: what failed, what was stored
#   make capacity  load-test figures for docs/performance.md (simulated and embedded)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
LLAMA_VERSION := 0.3.36

# llama.cpp: the default native build crashes on CPUs with AMX (a known ggml bug), so
# native builds get AMX switched off at the compiler where the CPU has it. Pinning AVX2
# keeps SOURCE_DATE_EPOCH from flipping the build to one without SIMD.
HAS_AMX := $(shell grep -q amx_int8 /proc/cpuinfo 2>/dev/null && echo 1)
ifeq ($(HAS_AMX),1)
LLAMA_CFLAGS := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$(LLAMA_CFLAGS)' -DCMAKE_CXX_FLAGS='$(LLAMA_CFLAGS)'
else
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=ON
endif
LLAMA_KEY := $(shell echo '$(LLAMA_VERSION) $(LLAMA_CMAKE_ARGS) $(shell uname -m)' | sha256sum | cut -c1-16)
# Built wheels live outside the checkout so fresh clones on the same machine reuse them;
# the folder name carries a hash of the flags, so other flags mean another build.
WHEEL_DIR := $(HOME)/.cache/voicechat/wheels/llama-$(LLAMA_KEY)

RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
SYSTEM_STAMP := $(VENV)/.system-installed
CLUSTER_STAMP := $(VENV)/.cluster-installed
SPEECH_STAMP := $(VENV)/.speech-installed

.PHONY: bench-speech bench-line-ends bench-first-reply bench-reply-pieces run-cluster bench-outage bench-restart run test bench bench-page bench-phone bench-relevance soak attack serve-simulated capacity lint setup setup-dev clean

run: setup
	$(PY) app.py

setup: $(RUNTIME_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip wheel

$(WHEEL_DIR)/.built: | $(VENV)/bin/python
	mkdir -p $(WHEEL_DIR)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-cache-dir --no-deps \
		-w $(WHEEL_DIR) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

$(RUNTIME_STAMP): requirements.txt core/providers/embedded/model_files.py $(WHEEL_DIR)/.built | $(VENV)/bin/python
	$(PIP) install --no-index --find-links $(WHEEL_DIR) llama-cpp-python==$(LLAMA_VERSION) --no-deps
	$(PIP) install -r requirements.txt
	$(PY) -m core.providers.embedded.model_files
	touch $@

# Debian packages, installed only if missing: $(1) is the list.
define apt_install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
endef
# The services of the scaled setup (make run-cluster and its tests); started by the
# tests or the cluster runner themselves, never as system services.
CLUSTER_PACKAGES := postgresql redis-server haproxy
# For the tests: the browser, synthetic speech, the TLS proxy (nginx, openssl) and those.
SYSTEM_PACKAGES := chromium chromium-driver espeak-ng sox nginx openssl $(CLUSTER_PACKAGES)

$(SYSTEM_STAMP): | $(VENV)/bin/python
	$(call apt_install_missing,$(SYSTEM_PACKAGES))
	touch $@

$(CLUSTER_STAMP): | $(VENV)/bin/python
	$(call apt_install_missing,$(CLUSTER_PACKAGES))
	touch $@

# make bench makes some of its speech (one-word answers) with espeak-ng.
$(SPEECH_STAMP): | $(VENV)/bin/python
	$(call apt_install_missing,espeak-ng sox)
	touch $@

$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	$(PIP) install -r requirements-dev.txt
	touch $@

setup-dev: $(RUNTIME_STAMP) $(DEV_STAMP) $(SYSTEM_STAMP)

lint: setup-dev
	$(VENV)/bin/ruff check .

test: setup-dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

bench: setup $(SPEECH_STAMP)
	$(PY) -m monitoring.bench

bench-first-reply: setup
	$(PY) -m monitoring.bench.first_reply

bench-reply-pieces: setup
	$(PY) -m monitoring.bench.reply_pieces

bench-relevance: setup
	$(PY) -m monitoring.bench.relevance --out docs/results/relevance.json

bench-line-ends: setup
	$(PY) -m monitoring.bench.line_ends --out docs/results/line-ends.json

bench-phone: setup
	$(PY) -m monitoring.bench.phone --out docs/results/phone-bench.json

bench-speech: setup
	$(PY) -m monitoring.bench.speech --out docs/results/speech-bench.json

run-cluster: setup $(CLUSTER_STAMP)
	$(PY) -m monitoring.servers.cluster

bench-outage: setup $(CLUSTER_STAMP)
	$(PY) -m monitoring.bench.outage

bench-restart: setup $(CLUSTER_STAMP)
	$(PY) -m monitoring.bench.rolling_restart

soak: setup
	$(PY) -m monitoring.soak

attack: setup
	$(PY) -m monitoring.soak.attacks

# Simulated cloud providers and load-test limits (monitoring/servers/simulated.py): the
# server's own capacity apart from model cost. Any VOICECHAT_ variable set wins.
serve-simulated: setup
	$(PY) -m monitoring.servers.simulated

capacity: setup $(CLUSTER_STAMP)
	$(PY) -m monitoring.loadtest.capacity

# The page in headless Chromium: load and start times, browser CPU (needs the test setup).
bench-page: setup-dev
	$(PY) -m monitoring.bench.page

clean:
	rm -rf $(VENV) .pytest_cache
