# Production image: build the server and the WASM site, then run them from a slim base.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-leptos --version 0.3.10 --locked
WORKDIR /src
COPY Cargo.lock ./
RUN cargo install wasm-bindgen-cli --version "$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --no-save
COPY . .
ENV PATH="/src/node_modules/.bin:${PATH}"
RUN cargo leptos build --release --precompress

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/aegis aegis
COPY --from=build /src/target/release/aegis /usr/local/bin/aegis
COPY --from=build /src/target/site /opt/aegis/site
ENV AEGIS_SITE_ROOT=/opt/aegis/site \
    AEGIS_DATA_DIR=/var/lib/aegis/data \
    AEGIS_BIND=0.0.0.0:3000
USER aegis
WORKDIR /var/lib/aegis
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=5 CMD ["aegis", "healthcheck"]
ENTRYPOINT ["aegis"]
CMD ["serve"]
