"""The Redis client: one per app and URL, with short timeouts so a dead Redis cannot stall a sale."""
from __future__ import annotations

import redis
from flask import current_app

RedisError = redis.RedisError


def connection() -> redis.Redis:
    url = current_app.config["REDIS_URL"]
    cache = current_app.extensions.setdefault("redis", {})
    if url not in cache:
        cache[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    return cache[url]
