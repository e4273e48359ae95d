# Multi-stage build: compile in the Rust image, run in a small Debian image as a non-root user.
# `scripts/verify-container` runs the build stage's commands without Docker (see README, Container).

# --- build: dependencies in their own layer, then our sources -----------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src

# 1. Dependencies only. The layer's inputs are the manifest and the lock file, so it is reused
#    until a dependency changes: a stub lib and main stand in for our sources, and building them
#    compiles every dependency the real build needs.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --bin orange-ticket-bot \
 && rm -rf src

# 2. Our sources (config/default.toml is compiled in). The stubs' build is newer than the copied
#    files, whose times come from the build context: touching the crate roots makes cargo rebuild
#    our crate, and only it.
COPY src ./src
COPY config ./config
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin orange-ticket-bot

# --- runtime ------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: TLS to Discord and Orange. busybox: its `wget` probes /healthz for the
# HEALTHCHECK (818 KiB, needs only libc; curl would bring libcurl4 and a dozen libraries).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates busybox \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data bot \
 && mkdir -p /data && chown bot:bot /data && chmod 0700 /data
COPY --from=build /src/target/release/orange-ticket-bot /usr/local/bin/orange-ticket-bot
COPY config /etc/orange-ticket-bot
USER bot
WORKDIR /data
VOLUME ["/data"]
# Settings come from the environment: OTB__SECTION__KEY overrides config/default.toml, and the
# secrets (DISCORD_TOKEN, ORANGE_CLIENT_ID, ORANGE_CLIENT_SECRET, ORANGE_APPLICATION_ID) are
# environment variables only (compose.yaml reads them from .env). The ops listener (/healthz,
# /readyz, /metrics) is on, on every interface of the container, for the HEALTHCHECK below and for
# a scraper on the container's network; publish its port only where it should be reached.
ENV OTB_CONFIG=/etc/orange-ticket-bot/default.toml \
    OTB__STORE__PATH=/data/orange-ticket-bot.sled \
    OTB__TELEMETRY__FORMAT=json \
    OTB__OPS__LISTEN=0.0.0.0:9464 \
    OTB__OPS__ALLOW_PUBLIC=true
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["busybox", "wget", "-q", "-T", "4", "-O", "/dev/null", "http://127.0.0.1:9464/healthz"]
ENTRYPOINT ["orange-ticket-bot"]
CMD ["run"]
