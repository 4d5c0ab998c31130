"""API keys and passwords: shaped keys, only hashes kept, constant-time matching, argon2."""

from __future__ import annotations

from deployflow.api.keys import check_password, hash_password, key_matches, new_key, split_key


def test_a_key_is_shown_once_and_only_its_hash_is_kept() -> None:
    key = new_key()
    assert key.plain.startswith(f"dfk_{key.key_id}_") and len(key.key_id) == 16
    secret = key.plain.split("_", 2)[2]
    assert len(secret) >= 43 and secret not in key.secret_hash  # 32 random bytes
    assert split_key(key.plain) == (key.key_id, secret)
    assert key_matches(secret, key.secret_hash) and not key_matches(secret + "x", key.secret_hash)
    assert new_key().plain != key.plain


def test_keys_not_shaped_like_ours_are_refused_before_any_lookup() -> None:
    for bad in ("", "dfk", "dfk_short_x", "xyz_0123456789abcdef_s", "dfk_0123456789abcdef_"):
        assert split_key(bad) is None, bad


def test_passwords_are_hashed_with_argon2() -> None:
    stored = hash_password("correct-Horse-88")
    assert stored.startswith("$argon2") and "correct-Horse-88" not in stored
    assert check_password("correct-Horse-88", stored)
    assert not check_password("wrong-Horse-88", stored)
    assert not check_password("x", "not a hash")
