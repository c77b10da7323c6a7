"""The question log over HTTP, on a real `qa serve` process (the hashed encoder: no model):
personal data sent in questions is found in no file the service wrote, nor in its log output;
feedback, its rate limit, the retention while the service runs, and the gap report's route."""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.test_cli import Served, qa

ADMIN = "admin-7c2f9e41d0b3"
# Each question is full of personal data; the values are what must never reach a file.
PERSONAL = {
    "850709-9805": "8507099805",          # personnummer, short form with separator
    "19850709-9805": "198507099805",      # with century
    "198507699802": "198507699802",       # samordningsnummer (day + 60), no separator
    "850709+9805": "8507099805",          # over 100 years old: +
    "070-123 45 67": "0701234567",
    "+46 8 123 456 78": "812345678",
    "0046 70 765 43 21": "707654321",
    "anna.svensson@exempel.se": None,
    "Storgatan 12B": None,
    "Kungsvägen 3 lgh 1102": None,
    "352 30 Växjö": None,
    "4111 1111 1111 1111": "4111111111111111",
    "ärende 98765432": "98765432",
}
QUESTIONS = [
    "Mitt personnummer är 850709-9805, kan jag få bygglov?",
    "Jag heter Anna, 19850709-9805, och bor på Storgatan 12B, 352 30 Växjö. Hur söker jag stöd?",
    "Samordningsnummer 198507699802 och 850709+9805: vilka regler gäller?",
    "Ring mig på 070-123 45 67 eller +46 8 123 456 78 om regionens utvecklingsstrategi",
    "Min mejl är anna.svensson@exempel.se och min telefon 0046 70 765 43 21",
    "Jag bor på Kungsvägen 3 lgh 1102, vad gäller för ärende 98765432?",
    "Betalade med kort 4111 1111 1111 1111, hur får jag tillbaka pengarna?",
]


def _collapsed(text: str) -> str:
    return re.sub(r"[\s\-+.]", "", text)


def _leaks(text: str) -> list[str]:
    found = [raw for raw in PERSONAL if raw.lower() in text.lower()]
    flat = _collapsed(text)
    found += [digits for digits in PERSONAL.values() if digits and digits in flat]
    return found


@pytest.fixture
def index_copy(hashed_seeds_index_dir, tmp_path) -> Path:
    """A served index directory of its own (the log goes into it)."""
    index = tmp_path / "srv" / "kommunen"
    shutil.copytree(hashed_seeds_index_dir, index)
    return index


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"QA_MODEL": "hashed-ngrams", "QA_CACHE_DIR": str(tmp_path / "cache"),
            "QA_QUESTION_LOG": "on", "QA_ADMIN_TOKEN": ADMIN, "QA_RELOAD_SECONDS": "0", **extra}


@pytest.mark.slow  # a `qa serve` process (about 10 s to start)
def test_personal_data_in_questions_reaches_no_file_and_no_log_line(index_copy, tmp_path):
    served = Served(index_copy, env=_env(tmp_path, QA_LOG_LEVEL="debug"))
    answers = []
    with served as base:
        for question in QUESTIONS:
            r = httpx.post(f"{base}/api/search", json={"question": question, "k": 3})
            assert r.status_code == 200, r.text
            answers.append(r.json()["answer_id"])
        # Feedback, a bad request that echoes nothing into a file, the gaps and the metrics.
        assert httpx.post(f"{base}/api/feedback", json={"answer_id": answers[0],
                                                       "helpful": False}).json()["recorded"]
        assert httpx.post(f"{base}/api/search", json={"question": QUESTIONS[0], "k": 99}
                          ).status_code == 422
        gaps = httpx.get(f"{base}/api/gaps", headers={"Authorization": f"Bearer {ADMIN}"},
                         timeout=60)
        assert gaps.status_code == 200
        metrics = httpx.get(f"{base}/metrics").text
    assert _leaks(gaps.text) == [] and _leaks(metrics) == []
    assert "POST" in served.log and "/api/search" in served.log  # the log was written
    assert _leaks(served.log) == [], served.log
    written = [p for root in (index_copy.parent, tmp_path / "cache") if root.exists()
               for p in root.rglob("*") if p.is_file()]
    day_files = list((index_copy / "questions").glob("*.jsonl"))
    assert len(day_files) == 1 and day_files[0] in written
    for path in written:
        text = path.read_bytes().decode("utf-8", "replace")
        assert _leaks(text) == [], path
    lines = [json.loads(line) for line in day_files[0].read_text(encoding="utf-8").splitlines()]
    questions = [e for e in lines if e["kind"] == "question"]
    assert len(questions) == len(QUESTIONS)  # the 422 was not searched, nor logged
    assert {"[personnummer]", "[telefonnummer]", "[e-post]", "[adress]", "[nummer]"} <= {
        token for e in questions for token in re.findall(r"\[[a-zé-]+\]", e["question"])}
    for entry in questions:
        assert set(entry) == {"kind", "answer_id", "time", "collection", "question",
                              "good_match", "top_document", "top_similarity"}
        assert entry["collection"] == "kommunen"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:00Z", entry["time"])
    assert [e["helpful"] for e in lines if e["kind"] == "feedback"] == [False]
    assert "127.0.0.1" not in day_files[0].read_text(encoding="utf-8")


@pytest.mark.slow  # a `qa serve` process (about 10 s to start)
def test_feedback_unknown_answer_rate_limit_and_retention_while_serving(index_copy, tmp_path):
    questions = index_copy / "questions"
    questions.mkdir()
    (questions / "2000-01-01.jsonl").write_text('{"kind": "question"}\n', encoding="utf-8")
    env = _env(tmp_path, QA_FEEDBACK_PER_MINUTE="3", QA_QUESTION_LOG_PRUNE_SECONDS="0.2",
               QA_QUESTION_LOG_DAYS="2")
    with Served(index_copy, env=env) as base:
        with httpx.Client(base_url=base) as one:  # one connection (keep-alive)
            answer = one.post("/api/search", json={"question": "Vad är tillitsbaserad styrning?"}
                              ).json()["answer_id"]
            unknown = one.post("/api/feedback", json={"answer_id": "20000101-0123456789abcdef",
                                                      "helpful": True})
            assert unknown.status_code == 422 and "no logged answer" in unknown.json()["detail"]
            assert one.post("/api/feedback", json={"answer_id": answer, "helpful": "ja"}
                            ).status_code == 422
            for helpful in (True, False):
                assert one.post("/api/feedback", json={"answer_id": answer, "helpful": helpful}
                                ).json() == {"recorded": True, "detail": "recorded"}
            limited = one.post("/api/feedback", json={"answer_id": answer, "helpful": True})
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        with httpx.Client(base_url=base) as other:  # another connection has its own allowance
            assert other.post("/api/feedback", json={"answer_id": answer, "helpful": True}
                              ).status_code == 200
        # Retention: expired day files go at start and while the service runs; today's stays.
        assert not (questions / "2000-01-01.jsonl").exists()
        old = questions / "2001-02-03.jsonl"
        old.write_text('{"kind": "question"}\n', encoding="utf-8")
        deadline = time.monotonic() + 30
        while old.exists():
            assert time.monotonic() < deadline, "the expired file was not deleted"
            time.sleep(0.1)
        today = questions / f"{datetime.now(UTC).date().isoformat()}.jsonl"
        assert today.exists()


@pytest.mark.slow  # a `qa serve` process (about 10 s to start)
def test_qa_gaps_reads_a_collection_of_a_collections_folder(index_copy, tmp_path):
    with Served(index_copy, env=_env(tmp_path)) as base:
        for question in ("Var finns närmaste simhall?", "Vilka öppettider har simhallen?",
                         "Vad är tillitsbaserad styrning?"):
            assert httpx.post(f"{base}/api/search", json={"question": question}).status_code == 200
        admin = {"Authorization": f"Bearer {ADMIN}"}
        csv_ = httpx.get(f"{base}/api/gaps", params={"format": "csv"}, headers=admin, timeout=60)
        assert csv_.status_code == 200 and csv_.headers["content-type"].startswith("text/csv")
        assert csv_.text.splitlines()[0] == "group,count,question,closest_documents"
        assert httpx.get(f"{base}/api/gaps").status_code == 401
        assert httpx.get(f"{base}/api/gaps", params={"from": "2025-02-01", "to": "2025-01-01"},
                         headers=admin).status_code == 422
        api = httpx.get(f"{base}/api/gaps", headers=admin).json()
    env = _env(tmp_path)
    proc = qa("gaps", "--collections", str(index_copy.parent), "--collection", "kommunen",
              "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["groups"] == api["groups"] and report["questions_logged"] == 3
    assert all(g["count"] == len(g["questions"]) for g in report["groups"])
    later = qa("gaps", "--index", str(index_copy), "--from", "2000-01-01", "--to", "2000-01-02",
               "--json", env=env)
    assert json.loads(later.stdout)["groups"] == []
    bad = qa("gaps", "--index", str(index_copy), "--collections", str(tmp_path), env=env)
    assert bad.returncode == 1 and "exclude each other" in bad.stderr


def test_with_the_log_off_nothing_is_kept_and_feedback_says_so(hashed_live_server,
                                                               hashed_seeds_index_dir):
    r = httpx.post(f"{hashed_live_server}/api/search", json={"question": "850709-9805?"})
    assert r.status_code == 200 and "answer_id" not in r.json()
    fb = httpx.post(f"{hashed_live_server}/api/feedback",
                    json={"answer_id": "20250101-0123456789abcdef", "helpful": True})
    assert fb.status_code == 200 and fb.json()["recorded"] is False
    assert "nothing was recorded" in fb.json()["detail"]
    assert not (hashed_seeds_index_dir / "questions").exists()
