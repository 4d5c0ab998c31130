"""The blue-green proxy's nginx configuration as text: the main file (everything under the
proxy's own prefix, in the foreground) and one upstream file per service, which deployflow
rewrites to switch a service between its slots. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Tls", "nginx_conf", "upstream_conf", "upstream_name", "upstream_port"]

_TEMP = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def upstream_name(project: str, service: str) -> str:
    return f"{project}_{service}".replace("-", "_")


def upstream_conf(name: str, host: str, port: int) -> str:
    return f"upstream {name} {{\n    server {host}:{port};\n}}\n"


def upstream_port(text: str) -> int | None:
    """The port an upstream file sends traffic to (None: not a file we wrote)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("server ") and line.endswith(";"):
            port = line[len("server ") : -1].rsplit(":", 1)[-1]
            return int(port) if port.isdigit() else None
    return None


@dataclass(frozen=True)
class Tls:
    """The HTTPS listener: its port, certificate and key files, and whether plain HTTP
    redirects to it."""

    listen: int
    cert: Path
    key: Path
    redirect: bool = False


def _locations(routes: dict[str, str]) -> str:
    return "".join(
        f"        location {path} {{\n"
        f"            proxy_pass http://{upstream};\n"
        "            proxy_set_header Host $host;\n"
        "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "            proxy_set_header X-Forwarded-Proto $scheme;\n"
        "        }\n"
        for path, upstream in sorted(routes.items(), key=lambda item: -len(item[0]))
    )


def _server(listen: str, name: str, body: str, tls: Tls | None) -> str:
    return (
        "    server {\n"
        f"        listen {listen}{' ssl' if tls else ''}{'' if name else ' default_server'};\n"
        + (f"        server_name {name};\n" if name else "")
        + (
            f"        ssl_certificate {tls.cert};\n"
            f"        ssl_certificate_key {tls.key};\n"
            "        ssl_protocols TLSv1.2 TLSv1.3;\n"
            if tls
            else ""
        )
        + body
        + "    }\n"
    )


def _servers(
    host: str, listen: int, routes: dict[str, str], hosts: dict[str, str], tls: Tls | None
) -> str:
    """The default server (the URL routes; 404 without any) and one per host name, on the
    plain listener (redirecting to HTTPS when asked) and on the TLS one."""
    blocks = [("", _locations(routes) or "        return 404;\n")]
    blocks += [(name, _locations({"/": upstream})) for name, upstream in sorted(hosts.items())]
    redirect = f"        return 308 https://$host:{tls.listen}$request_uri;\n" if tls else ""
    plain = [
        _server(f"{host}:{listen}", name, redirect if tls and tls.redirect else body, None)
        for name, body in blocks
    ]
    secure = [_server(f"{host}:{tls.listen}", n, b, tls) for n, b in blocks] if tls else []
    return "".join(plain + secure)


def nginx_conf(
    prefix: Path,
    host: str,
    listen: int,
    routes: dict[str, str],
    user: str | None = None,
    tls: Tls | None = None,
    hosts: dict[str, str] | None = None,
) -> str:
    """`routes` maps a URL prefix to an upstream name, `hosts` a host name to one; `user` only
    when nginx starts as root (its workers then drop to that user); `tls` adds an HTTPS
    listener with the same servers."""
    temp = "".join(f"    {kind}_temp_path {prefix}/tmp/{kind};\n" for kind in _TEMP)
    servers = _servers(host, listen, routes, hosts or {}, tls)
    return (
        "# written by deployflow; edits are replaced on the next deploy\n"
        + (f"user {user};\n" if user else "")
        + "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events {\n    worker_connections 1024;\n}\n"
        "http {\n"
        f"    access_log {prefix}/access.log;\n"
        f"{temp}"
        f"    include {prefix}/upstreams/*.conf;\n"
        "    server_names_hash_bucket_size 128;\n"
        f"{servers}"
        "}\n"
    )
