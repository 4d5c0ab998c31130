"""Small apps shaped like public starters, written here (no third-party code): the Flask
tutorial, a Django starter, an Express hello-world, a Go net/http server, a static site, a
FastAPI service and a bare WSGI app. Detection tests read them; e2e tests deploy some."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["SHAPES", "write_shape"]


def _files(base: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return base


FLASK_TUTORIAL = {
    "pyproject.toml": (
        '[project]\nname = "flaskr"\nversion = "1.0.0"\ndependencies = ["flask"]\n\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n'
    ),
    "flaskr/__init__.py": (
        "import os\nfrom flask import Flask\n\n\ndef create_app():\n"
        "    app = Flask(__name__, instance_relative_config=True)\n"
        "    app.config['DATABASE'] = os.path.join(app.instance_path, 'flaskr.sqlite')\n"
        "    os.makedirs(app.instance_path, exist_ok=True)\n\n"
        "    @app.route('/')\n    def index():\n"
        "        return f'Flaskr, instance at {app.instance_path}'\n\n"
        "    return app\n"
    ),
    "tests/test_factory.py": (
        "from flaskr import create_app\n\n\ndef test_config():\n"
        "    assert create_app().name == 'flaskr'\n"
    ),
}
DJANGO_SETTINGS = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "a-test-only-key-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "mysite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "mysite.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""
DJANGO_STARTER = {
    "requirements.txt": "Django>=4.2,<6\n",
    "manage.py": (
        "import os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    ),
    "mysite/__init__.py": "",
    "mysite/settings.py": DJANGO_SETTINGS,
    "mysite/urls.py": (
        "from django.contrib import admin\nfrom django.urls import path\n\n"
        "urlpatterns = [path('admin/', admin.site.urls)]\n"
    ),
    "mysite/wsgi.py": (
        "import os\nfrom django.core.wsgi import get_wsgi_application\n\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
        "application = get_wsgi_application()\n"
    ),
}
EXPRESS_HELLO = {
    "package.json": json.dumps(
        {"name": "hello", "scripts": {"start": "node index.js"}, "dependencies": {"express": "^4"}}
    ),
    "package-lock.json": "{}",
    "index.js": (
        "const express = require('express')\nconst app = express()\n"
        "app.get('/', (req, res) => res.send('Hello World!'))\n"
        "app.listen(process.env.PORT || 3000)\n"
    ),
}
GO_SERVER = {
    "go.mod": "module example.com/hello\n\ngo 1.19\n",
    "main.go": (
        'package main\n\nimport (\n\t"fmt"\n\t"net/http"\n\t"os"\n)\n\n'
        "func main() {\n"
        '\thttp.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {\n'
        '\t\tfmt.Fprint(w, "hi")\n\t})\n'
        '\thttp.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)\n}\n'
    ),
}
STATIC_SITE = {"index.html": "<!doctype html><title>Hello</title><h1>Hello, static</h1>\n"}
FASTAPI_APP = {
    "requirements.txt": "fastapi\nuvicorn\nalembic\n",
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    "alembic.ini": "[alembic]\nscript_location = migrations\n",
}
WSGI_APP = {
    "requirements.txt": "\n",
    "wsgi.py": (
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'hello from wsgi']\n"
    ),
}
SHAPES = {
    "flask": FLASK_TUTORIAL,
    "django": DJANGO_STARTER,
    "express": EXPRESS_HELLO,
    "go": GO_SERVER,
    "static": STATIC_SITE,
    "fastapi": FASTAPI_APP,
    "wsgi": WSGI_APP,
}


def write_shape(base: Path, shape: str) -> Path:
    return _files(base, SHAPES[shape])
