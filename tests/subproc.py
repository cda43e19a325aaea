"""Runs a Python snippet in a fresh interpreter, optionally with the CPU split into logical devices.

tf.distribute behaviour is tested this way: the logical-device split must happen before TensorFlow
initialises, which the pytest process has already done. `run_together` runs several processes side by side
(the workers of a MultiWorkerMirroredStrategy cluster, whose TF_CONFIG `worker_configs` makes).
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import textwrap
import time

_PRELUDE = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
_n = {devices}
if _n > 1:
    _cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * _n)
"""

# Appended to every script: once the snippet has run (an exception before this still exits with a traceback
# and status 1), leave at once. With MirroredStrategy's logical devices, TensorFlow's teardown at interpreter
# exit was seen to take from seconds to over 3 minutes after the work was done (more under CPU contention),
# time the tests spent waiting on nothing.
EXIT_NOW = """
import os as _os, sys as _sys
_sys.stdout.flush()
_sys.stderr.flush()
_os._exit(0)
"""


def run_python(code, devices=1, timeout=600, env=None, cwd=None):
    """Runs `code` in a subprocess and returns the JSON object it prints on its last stdout line."""
    script = _PRELUDE.format(devices=devices) + textwrap.dedent(code) + EXIT_NOW
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)
    if proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    lines = [l for l in proc.stdout.strip().splitlines() if l.strip()]
    return json.loads(lines[-1])


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound to port 0 together, then released)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def worker_configs(n):
    """TF_CONFIG values of an n-worker cluster on free 127.0.0.1 ports, one per worker."""
    hosts = [f"127.0.0.1:{port}" for port in free_ports(n)]
    return [json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": i}}) for i in range(n)]


def run_together(commands, directory, timeout):
    """Runs processes side by side and returns their stdout, by name.

    `commands` maps a name to (argv, extra environment). Output goes to files in `directory` (the processes
    are polled; a full pipe would block them). As soon as one fails, or at the deadline, the others are
    killed, so a worker waiting in a collective for a dead peer fails the test instead of hanging it.
    """
    directory = pathlib.Path(directory)
    procs = {}
    try:
        for name, (argv, env) in commands.items():
            full_env = dict(os.environ)
            full_env.pop("TF_CONFIG", None)
            full_env.update(env or {})
            with open(directory / f"{name}.out", "w") as out, open(directory / f"{name}.err", "w") as err:
                procs[name] = subprocess.Popen(argv, env=full_env, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            failed = [name for name, proc in procs.items() if proc.poll() not in (None, 0)]
            if failed:
                raise AssertionError(f"{failed[0]} failed ({procs[failed[0]].returncode}):\n"
                                     + (directory / f"{failed[0]}.err").read_text()[-6000:])
            running = [name for name, proc in procs.items() if proc.poll() is None]
            if not running:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"not finished within {timeout} s (a hung collective?): {running}")
            time.sleep(0.2)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {name: (directory / f"{name}.out").read_text() for name in procs}
