# nginx for compose where no registry is reachable: Debian's package on the local Debian 12 base
# (make docker-base), reading its site from /etc/nginx/conf.d/ and caching under /var/cache/nginx/ as the
# official nginx image does.
ARG BASE_IMAGE=localhost/scaleboard-base:bookworm
#checkov:skip=CKV_DOCKER_7: FROM takes BASE_IMAGE, the local Debian 12 base built by make docker-base
#checkov:skip=CKV_DOCKER_2: a stand-in for the official nginx image, which has no HEALTHCHECK either; make compose-up waits for /readyz through it
#checkov:skip=CKV_DOCKER_3: nginx's master binds port 80 as root and runs its workers as www-data (Debian's nginx.conf), as the official image does
FROM ${BASE_IMAGE}
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
    && mkdir -p /var/cache/nginx \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
