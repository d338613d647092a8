# PostgreSQL, nats-server and Prometheus from Debian's packages, in one image, for machines that cannot
# pull the official images compose.yaml names by default (`npm run test:deploy` sets POSTGRES_IMAGE,
# NATS_IMAGE and PROMETHEUS_IMAGE to it). compose.yaml gives each container its command; the
# entrypoint is PostgreSQL's, compatible with the official image's (POSTGRES_PASSWORD, PGDATA,
# /docker-entrypoint-initdb.d/*.sql), and compose.yaml names nats-server's and prometheus's.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 nats-server prometheus wget \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d \
 && chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql
COPY deploy/compose/postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
