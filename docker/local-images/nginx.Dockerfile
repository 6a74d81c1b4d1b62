# nginx for compose where no registry is reachable: Debian's package on the local Debian 12 base
# (make docker-base), reading its site from /etc/nginx/conf.d/ and caching under /var/cache/nginx/ as the
# official nginx image does.
ARG BASE_IMAGE=localhost/scaleboard-base:bookworm
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
