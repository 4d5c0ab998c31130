"""The warm runner: a Prefect worker whose runs start as forks of a pre-imported zygote.

SIGUSR1 tells the worker to look for runs at once. It is ignored from the first line the
worker runs (importing Prefect takes seconds), so an early wake-up never kills it."""

import signal

signal.signal(signal.SIGUSR1, signal.SIG_IGN)
