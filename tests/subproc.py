"""Runs a Python snippet in a fresh interpreter, optionally with the CPU split into logical devices.

tf.distribute behaviour is tested this way: the logical-device split must happen before TensorFlow
initialises, which the pytest process has already done.
"""
import json
import os
import subprocess
import sys
import textwrap

_PRELUDE = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
_n = {devices}
if _n > 1:
    _cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * _n)
"""


def run_python(code, devices=1, timeout=600, env=None, cwd=None):
    """Runs `code` in a subprocess and returns the JSON object it prints on its last stdout line."""
    script = _PRELUDE.format(devices=devices) + textwrap.dedent(code)
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)
    if proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    lines = [l for l in proc.stdout.strip().splitlines() if l.strip()]
    return json.loads(lines[-1])
