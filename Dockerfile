# Live Code Execution Engine: build stage with the -dev packages, slim runtime.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libfcgi-dev libzmq3-dev libjson-c-dev uuid-dev libsqlite3-dev libseccomp-dev libjwt-dev libssl-dev libpq-dev \
      python3 nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY common common
COPY fcgi_app fcgi_app
COPY runner runner
COPY events events
COPY conf conf
COPY tests/unit tests/unit
COPY www www
COPY scripts/build-www scripts/ensure-deps scripts/
# www: /openapi.json, lighttpd's JSON error pages, /docs (Swagger UI) and the
# playground at / (CodeMirror bundled by esbuild), both from the npm registry.
# Without the registry (a TLS-intercepting proxy whose CA the build does not
# trust, say) the image is built without /docs and /.
RUN make -j"$(nproc)" build/fcgi_app build/runner build/events \
 && { make www || echo "warning: npm registry unreachable: image without /docs and /" >&2; }

FROM debian:bookworm-slim
# The toolchains of conf/languages.conf the image carries (README,
# "Containers"): all by default; --build-arg TOOLCHAINS= for Python alone,
# or a subset (the runner leaves a language whose toolchain is missing out,
# with a line in its log). Python itself is always there, with the data
# packages conf/languages.conf lists for it (NumPy, pandas, Matplotlib).
ARG PYTHON_PACKAGES="python3-numpy python3-pandas python3-matplotlib"
ARG TOOLCHAINS="nodejs node-typescript gcc g++ libc6-dev openjdk-17-jdk-headless golang-go rustc sqlite3 pyflakes3"
RUN apt-get update \
 && apt-get install -y --no-install-recommends lighttpd libfcgi0ldbl libzmq5 libjson-c5 \
      libuuid1 libsqlite3-0 libseccomp2 libjwt0 libssl3 libpq5 python3 $PYTHON_PACKAGES $TOOLCHAINS \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/engine
COPY --from=build /src/build/fcgi_app /src/build/runner /src/build/events build/
COPY --from=build /src/build/www build/www
COPY conf conf
COPY lighttpd.conf ./
COPY scripts/run-stack scripts/container-init scripts/
# Listen on all interfaces inside the container; publish the port to choose exposure.
RUN sed -i 's/^server.bind .*/server.bind = "0.0.0.0"/' lighttpd.conf
# Not root inside the container either: lighttpd, the FastCGI pool and the
# events program run as code-exec (scripts/run-stack, ENGINE_USER), which
# owns the data directory; the runner stays root for the sandboxes (its
# SETUID/SETGID) and reaches the files through the group.
RUN useradd --system --user-group --home-dir /var/lib/engine --shell /usr/sbin/nologin code-exec \
 && usermod -a -G code-exec root \
 && install -d -m 2770 -o code-exec -g code-exec /var/lib/engine
ENV PORT=8000 DATA_DIR=/var/lib/engine ENGINE_USER=code-exec
VOLUME /var/lib/engine
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3)"]
# Least privilege to run it: see docker-compose.yml and README, "Containers".
CMD ["scripts/container-init"]
