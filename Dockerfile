# Multi-stage build: compile in the Rust image, run in a small Debian image as a non-root user.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
RUN cargo build --release --locked --bin orange-ticket-bot

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data bot \
 && mkdir -p /data && chown bot /data
COPY --from=build /src/target/release/orange-ticket-bot /usr/local/bin/orange-ticket-bot
COPY config /etc/orange-ticket-bot
USER bot
WORKDIR /data
VOLUME ["/data"]
ENV OTB_CONFIG=/etc/orange-ticket-bot/default.toml \
    OTB__STORE__PATH=/data/orange-ticket-bot.sled
ENTRYPOINT ["orange-ticket-bot"]
CMD ["run"]
