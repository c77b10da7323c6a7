"""The question log in a service of collections: each collection logs into its own directory,
under its own name; a feedback or a gap report of one never reaches another."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from tests.live import serve

TOKENS = {"region": "admin-region-log", "kommun": "admin-kommun-log"}


def test_each_collection_keeps_its_own_log(hashed_seeds_index_dir, hashed_settings,
                                           hashed_questions, tmp_path):
    from api.app import create_app
    from qa.search.collections import Collections

    root = tmp_path / "samlingar"
    for name, admin in TOKENS.items():
        shutil.copytree(hashed_seeds_index_dir, root / name)
        (root / name / "access.toml").write_text(f'admin_token = "{admin}"\n', encoding="utf-8")
    settings = hashed_settings.model_copy(update={"question_log": True})
    collections = Collections(root, hashed_questions, settings)
    collections.scan()
    with serve(create_app(collections)) as base:
        asked = httpx.post(f"{base}/api/collections/region/search",
                           json={"question": "Ring 070-123 45 67 om regiondagarna"})
        answer = asked.json()["answer_id"]
        other = httpx.post(f"{base}/api/collections/kommun/feedback",
                           json={"answer_id": answer, "helpful": False})
        assert other.status_code == 422  # not kommun's answer
        own = httpx.post(f"{base}/api/collections/region/feedback",
                         json={"answer_id": answer, "helpful": False})
        assert own.json()["recorded"] is True
        gaps = httpx.get(f"{base}/api/collections/region/gaps",
                         headers={"Authorization": f"Bearer {TOKENS['region']}"}, timeout=60)
        assert gaps.json()["questions_logged"] == 1
        assert httpx.get(f"{base}/api/collections/region/gaps", headers={
            "Authorization": f"Bearer {TOKENS['kommun']}"}).status_code == 401
    files = list((root / "region" / "questions").glob("*.jsonl"))
    assert len(files) == 1 and not (root / "kommun" / "questions").exists()
    entry = json.loads(files[0].read_text(encoding="utf-8").splitlines()[0])
    assert entry["collection"] == "region" and "[telefonnummer]" in entry["question"]
    assert Path(root / "region").is_dir()
