"""A websockets echo server; answers each message with the same text."""

import asyncio
import os
from pathlib import Path

from websockets.asyncio.server import serve

ENV = dict(line.split("=", 1) for line in Path(".env").read_text().splitlines() if "=" in line)


async def echo(websocket):
    async for message in websocket:
        await websocket.send(message)


async def main():
    async with serve(echo, ENV["ECHO_HOST"], int(ENV["ECHO_PORT"])):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
