"""An app's environment pointed at a throwaway database: names, files and URL paths."""

from __future__ import annotations

from deployflow.core.dbenv import point_env


def test_values_naming_the_live_database_name_the_other() -> None:
    env = {
        "POSTGRES_DB": "shop",
        "DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/shop?sslmode=disable",
        "SHOPPING": "shop-keeper",
        "OTHER_URL": "postgresql://u:p@127.0.0.1:5432/shop_old",
        "SQLITE": "sqlite:////srv/shared/web/instance/app.sqlite",
    }
    pointed, keys = point_env(env, "shop", "shop__test_1")
    assert pointed["POSTGRES_DB"] == "shop__test_1"
    assert pointed["DATABASE_URL"].endswith("/shop__test_1?sslmode=disable")
    assert pointed["SHOPPING"] == "shop-keeper" and pointed["OTHER_URL"].endswith("/shop_old")
    assert keys == ["POSTGRES_DB", "DATABASE_URL"]
    live = "/srv/shared/web/instance/app.sqlite"
    pointed, keys = point_env(env, live, live + ".test-1")
    assert pointed["SQLITE"] == f"sqlite:///{live}.test-1" and keys == ["SQLITE"]
