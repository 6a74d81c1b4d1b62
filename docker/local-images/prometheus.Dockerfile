# Prometheus for compose's monitoring profile where no registry is reachable: Debian's package on the local
# Debian 12 base (make docker-base), with the official prom/prometheus image's paths and command.
ARG BASE_IMAGE=localhost/scaleboard-base:bookworm
#checkov:skip=CKV_DOCKER_7: FROM takes BASE_IMAGE, the local Debian 12 base built by make docker-base
#checkov:skip=CKV_DOCKER_2: a stand-in for the official prom/prometheus image, which has no HEALTHCHECK either
FROM ${BASE_IMAGE}
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /prometheus \
    && chown prometheus:prometheus /prometheus
USER prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
