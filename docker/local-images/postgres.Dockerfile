# PostgreSQL 15 for compose where no registry is reachable (context: docker/local-images): Debian's packages on the local Debian 12 base
# (make docker-base), taking the same POSTGRES_USER/PASSWORD/DB variables and data path as the official
# postgres image, so docker/compose.yaml runs either. With a registry, use the official image.
ARG BASE_IMAGE=localhost/scaleboard-base:bookworm
#checkov:skip=CKV_DOCKER_7: FROM takes BASE_IMAGE, the local Debian 12 base built by make docker-base
#checkov:skip=CKV_DOCKER_2: docker/compose.yaml checks it with pg_isready, as it does the official postgres image
FROM ${BASE_IMAGE}
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data \
    && install -d -o postgres -g postgres -m 2775 /run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
