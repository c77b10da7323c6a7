"""A serving process answers questions without ever importing torch or sentence-transformers.

``qa serve`` runs in a child process exactly as a user starts it (the CLI entry
point, a real socket on 127.0.0.1); once it has answered a question over HTTP,
the child reports which heavy packages its interpreter has loaded.
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

_CHILD = textwrap.dedent("""
    import json, socket, sys, threading, time, urllib.request

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
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_CACHE_DIR": str(settings.embed.cache_dir)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(seeds_index_dir), ",".join(HEAVY)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["top"] == "003_c2aea3d9b67761fb", "the served process answers from the index"
    assert report["heavy"] == [], f"serving imported {report['heavy']}"
