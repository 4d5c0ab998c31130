"""The relay ("reverb") role: a WebSocket server answering pings with its release id."""

import asyncio
from pathlib import Path

from websockets.asyncio.server import serve

HERE = Path(__file__).resolve().parent
ENV = dict(
    line.split("=", 1) for line in (HERE / ".env").read_text().splitlines() if "=" in line
)
REVISION = HERE.parent / "REVISION"
RELEASE = REVISION.read_text().strip() if REVISION.is_file() else "dev"


async def handler(websocket):
    async for message in websocket:
        if message == "ping":
            await websocket.send(f"pong {RELEASE}")
        else:
            await websocket.send(f"echo {message}")


async def main():
    async with serve(
        handler, ENV["RELAY_HOST"], int(ENV["RELAY_PORT"]), reuse_port=True
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
