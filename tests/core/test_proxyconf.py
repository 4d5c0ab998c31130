"""The blue-green proxy's nginx config as text, and reading the port back from an upstream."""

from __future__ import annotations

from pathlib import Path

from deployflow.core.proxyconf import nginx_conf, upstream_conf, upstream_name, upstream_port


def test_upstream_round_trip() -> None:
    text = upstream_conf(upstream_name("my-shop", "web-api"), "127.0.0.1", 8102)
    assert text.startswith("upstream my_shop_web_api {")
    assert upstream_port(text) == 8102
    assert upstream_port("# not ours\n") is None
    assert upstream_port("server 127.0.0.1:http;") is None


def test_nginx_conf_keeps_everything_under_its_prefix() -> None:
    conf = nginx_conf(Path("/srv/p"), "127.0.0.1", 8080, {"/": "a", "/api/": "b"})
    assert "daemon off;" in conf and "user " not in conf
    assert "listen 127.0.0.1:8080;" in conf
    assert "pid /srv/p/nginx.pid;" in conf and "include /srv/p/upstreams/*.conf;" in conf
    assert conf.count("_temp_path /srv/p/tmp/") == 5
    # the longer prefix first, each to its upstream
    assert conf.index("location /api/") < conf.index("location / {")
    assert "proxy_pass http://b;" in conf
    assert nginx_conf(Path("/p"), "h", 1, {"/": "a"}, "nobody nogroup").count("user nobody") == 1
