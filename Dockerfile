# Strata in a container (README: Installing).
#
#   docker build -t strata .
#   docker run -d --name strata -p 1883:1883 -p 8883:8883 -p 8080:8080 \
#     -v strata-data:/var/lib/strata strata
#
# Build stage: Debian bookworm with what tools/setup.sh installs, the
# release build, `cmake --install` into /opt/strata. Runtime stage:
# debian:bookworm-slim with only the shared libraries `strata` links
# (tests/integration/test_28_install.py checks this list against ldd), a
# non-root `strata` user, the configuration in /etc/strata and the data in
# /var/lib/strata (both volumes).

FROM debian:bookworm AS build
RUN apt-get update -q && apt-get install -y -q --no-install-recommends sudo ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY tools/setup.sh tools/setup.sh
COPY tests/package.json tests/package-lock.json tests/
RUN tools/setup.sh
COPY . .
RUN cmake --preset release -DSTRATA_TESTS=OFF \
 && cmake --build --preset release --parallel \
 && cmake --install build/release --prefix /opt/strata \
 && sed -i -e 's|/opt/strata/etc/strata|/etc/strata|g' -e 's|/opt/strata/var/lib/strata|/var/lib/strata|g' \
      /opt/strata/etc/strata/strata.toml

FROM debian:bookworm-slim
# Runtime libraries of bin/strata (package names as `dpkg -S` gives them for `ldd`).
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      libc6 libgcc-s1 libstdc++6 libssl3 liblmdb0 libluajit-5.1-2 libtomlplusplus3 \
      librdkafka1 libsasl2-2 liblz4-1 libzstd1 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/strata --shell /usr/sbin/nologin strata \
 && install -d -o strata -g strata /var/lib/strata
COPY --from=build /opt/strata/bin/ /usr/local/bin/
COPY --from=build /opt/strata/lib/strata/ /usr/local/lib/strata/
COPY --from=build /opt/strata/include/strata/ /usr/local/include/strata/
COPY --from=build /opt/strata/share/strata/ /usr/local/share/strata/
COPY --from=build /opt/strata/etc/strata/ /etc/strata/
USER strata
WORKDIR /var/lib/strata
VOLUME ["/etc/strata", "/var/lib/strata"]
EXPOSE 1883 8883 8080
# SIGTERM stops the broker gracefully: clients get DISCONNECT 0x8B, the store
# is flushed (docker stop waits 10 s by default before SIGKILL).
STOPSIGNAL SIGTERM
# Healthy while the admin API answers GET /api/v1/status ([admin] url, by
# default http://127.0.0.1:8080; set STRATA_URL when it differs, and
# STRATA_API_KEY=name:secret when [admin] auth = "login").
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["strata-ctl", "--timeout", "4", "status"]
ENTRYPOINT ["strata", "-c", "/etc/strata/strata.toml", "--data-dir", "/var/lib/strata"]
