"""The blue-green proxy's nginx config as text, and reading the port back from an upstream."""

from __future__ import annotations

from pathlib import Path

from deployflow.core.proxyconf import Tls, nginx_conf, upstream_conf, upstream_name, upstream_port


def test_upstream_round_trip() -> None:
    text = upstream_conf(upstream_name("my-shop", "web-api"), "127.0.0.1", 8102)
    assert text.startswith("upstream my_shop_web_api {")
    assert upstream_port(text) == 8102
    assert upstream_port("# not ours\n") is None
    assert upstream_port("server 127.0.0.1:http;") is None


def test_nginx_conf_keeps_everything_under_its_prefix() -> None:
    conf = nginx_conf(Path("/srv/p"), "127.0.0.1", 8080, {"/": "a", "/api/": "b"})
    assert "daemon off;" in conf and "user " not in conf
    assert "listen 127.0.0.1:8080 default_server;" in conf
    assert "pid /srv/p/nginx.pid;" in conf and "include /srv/p/upstreams/*.conf;" in conf
    assert conf.count("_temp_path /srv/p/tmp/") == 5
    # the longer prefix first, each to its upstream
    assert conf.index("location /api/") < conf.index("location / {")
    assert "proxy_pass http://b;" in conf
    assert nginx_conf(Path("/p"), "h", 1, {"/": "a"}, "nobody nogroup").count("user nobody") == 1


def test_hosts_and_tls_servers() -> None:
    tls = Tls(8443, Path("/c/site.pem"), Path("/c/site-key.pem"), redirect=True)
    conf = nginx_conf(Path("/p"), "127.0.0.1", 8080, {}, None, tls, {"shop.localhost": "s"})
    servers = conf.split("    server {")[1:]
    assert len(servers) == 4  # default and shop, plain and TLS
    plain_default, plain_shop, tls_default, tls_shop = servers
    assert "return 308 https://$host:8443$request_uri;" in plain_default + plain_shop
    assert "return 404;" in tls_default and "default_server" in tls_default
    assert "server_name shop.localhost;" in tls_shop and "proxy_pass http://s;" in tls_shop
    assert "listen 127.0.0.1:8443 ssl;" in tls_shop and "ssl_certificate /c/site.pem;" in tls_shop
