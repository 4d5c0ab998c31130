"""Build dist/: assets get content-hashed names and index.html points at them."""

import hashlib
import shutil
from pathlib import Path

src, dist = Path("src"), Path("dist")
shutil.rmtree(dist, ignore_errors=True)
(dist / "assets").mkdir(parents=True)
html = (src / "index.html").read_text()
for asset in ("app.js", "style.css"):
    data = (src / asset).read_bytes()
    stem, ext = asset.rsplit(".", 1)
    hashed = f"{stem}.{hashlib.sha256(data).hexdigest()[:10]}.{ext}"
    (dist / "assets" / hashed).write_bytes(data)
    html = html.replace(f"assets/{asset}", f"assets/{hashed}")
version = Path("VERSION").read_text().strip()
(dist / "index.html").write_text(html.replace("</body>", f"<!-- version {version} -->\n</body>"))
print(f"built dist/ (version {version})")
