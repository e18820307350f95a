"""Fed on stdin to `rft sandbox run --pids N -- python3 -` by suite.py: forks sleeping children until
fork fails, then prints how many it got and the errno (EAGAIN when a pids limit stops it)."""
import errno
import os
import time

forked = 0
try:
    while forked < 10000:
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        forked += 1
    print(f"forked {forked} errno none")
except OSError as e:
    print(f"forked {forked} errno {errno.errorcode.get(e.errno, e.errno)}")
