"""Plagiarism and collusion: suspiciously similar essay and short-answer responses of an exam.

Responses are compared only with responses to the same question, by two detectors:

- **Copying** (verbatim, edited, reordered, partly copied): each response becomes its set of
  word 3-shingles, hashed (CRC-32) and summarised by a 128-value MinHash signature
  (``h(x) = (a·x + b) mod p`` with a prime ``p`` just above 2³², exact in 64-bit integers).
  LSH banding (64 bands of 2 rows) turns signatures into candidate pairs without comparing
  every pair; a candidate is kept when the signatures agree on at least
  ``jaccard_threshold`` (0.25) of their rows — the estimate of the shingles' Jaccard
  similarity (honest answers to one question share about 0.02). Moving sentences around
  keeps almost every shingle, so reordering does not hide a copy.
- **Paraphrase** (synonyms, rewording): every sentence is embedded by the provider
  (``embed``, unit vectors). Answers to one question share their topic, so sentence and
  answer vectors are *centred* (the question's mean vector removed) before comparing. Each
  answer's ``neighbours`` nearest answers (normalised matrix products over blocks of rows)
  join the LSH candidates, and a candidate is a paraphrase when its *sentence alignment* —
  the mean, over both answers' sentences, of each sentence's best cosine with the other
  answer's sentences — reaches ``alignment_threshold`` (0.45): a paraphrase keeps every
  sentence's meaning, two honest answers only a few.

Kept pairs are joined into clusters with union-find (a ring of students sharing one answer
is one cluster). For a reviewer, ``matching_passages`` marks the words of each side that lie
in a run of at least three words the other side also has, in any order (a monotone diff
loses passages a copier moved around; ``difflib`` still gives the longest run in order).

Responses shorter than ``min_words`` (12) words are skipped: identical short answers
("Paris") are expected, not collusion. Thresholds were set on ``bench/plagiarism_corpus.py``
with the offline model; ``bench/plagiarism.py`` measures 5,000 essays end to end.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any

import numpy as np

WORD = re.compile(r"\w+", re.UNICODE)
PRIME = np.uint64(4294967311)  # the first prime above 2**32
_STOP_WORDS_TEXT = """a an the and or but if then of to in on at by for with from as is are was
were be been being it its this that these those which who whom what when where why how not no so
such than too very can could should would may might must will shall do does did done have has had
having i you he she we they them their our your his her my me us also there here into out over
under about after before between because while during through each other more most some any all
both only own same just"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True)
class Document:
    """One response: ``key`` identifies it to the caller (a response id), ``group`` is the
    question it answers (only documents of one group are compared)."""

    key: int
    group: Any
    text: str


@dataclass(frozen=True)
class DetectionSettings:
    shingle_size: int = 3
    permutations: int = 128
    bands: int = 64  # of 2 rows: a pair with Jaccard 0.25 becomes a candidate 98% of the time
    jaccard_threshold: float = 0.25
    neighbours: int = 10
    alignment_threshold: float = 0.45
    min_words: int = 12
    max_bucket: int = 50
    block_rows: int = 1024
    seed: int = 20261124

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FoundPair:
    a: int  # Document.key
    b: int
    group: Any
    jaccard: float
    cosine: float | None
    reason: str  # "copied" | "paraphrased" | "both"


@dataclass
class Detection:
    pairs: list[FoundPair]
    clusters: list[list[int]]  # Document keys, each cluster sorted, biggest first
    documents: int  # compared (long enough)
    skipped: int  # too short to compare
    timings: dict[str, float] = field(default_factory=dict)


# -- text ---------------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return [word.lower() for word in WORD.findall(text or "")]


def shingle_hashes(words: Sequence[str], size: int) -> np.ndarray:
    """The distinct CRC-32 hashes of the word ``size``-shingles (a text shorter than
    ``size`` words is one shingle)."""
    if len(words) < size:
        grams = {" ".join(words)}
    else:
        grams = {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
    return np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64, count=len(grams))


def content_words(words: Sequence[str]) -> set[str]:
    return {w for w in words if w not in STOP_WORDS and not w.isdigit()}


# -- MinHash and LSH ----------------------------------------------------------------------


class MinHasher:
    """``permutations`` universal hash functions over 32-bit values; a signature is the
    minimum of each over a set. Equal rows of two signatures estimate their Jaccard."""

    def __init__(self, permutations: int = 128, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, 2**32, size=permutations, dtype=np.uint64)
        self.b = rng.integers(0, 2**32, size=permutations, dtype=np.uint64)
        self.permutations = permutations

    def signatures(self, hash_sets: Sequence[np.ndarray], chunk: int = 200_000) -> np.ndarray:
        """One signature per set, computed over all sets at once in chunks of values:
        ``(a·x + b) mod p`` never overflows 64 bits because ``a, x, b < 2³²``."""
        n = len(hash_sets)
        out = np.full((n, self.permutations), np.iinfo(np.uint64).max, dtype=np.uint64)
        if n == 0:
            return out
        lengths = np.fromiter((len(h) for h in hash_sets), dtype=np.int64, count=n)
        values = np.concatenate(hash_sets) if lengths.sum() else np.zeros(0, dtype=np.uint64)
        owners = np.repeat(np.arange(n), lengths)
        a = self.a[:, None]
        b = self.b[:, None]
        for start in range(0, len(values), chunk):
            part = values[None, start : start + chunk]
            hashed = (a * part + b) % PRIME  # (permutations, chunk)
            who = owners[start : start + chunk]
            # Minimum per owner: owners are sorted, so reduce over each owner's run.
            cut = np.flatnonzero(np.r_[True, who[1:] != who[:-1]])
            mins = np.minimum.reduceat(hashed, cut, axis=1)
            rows = who[cut]
            out[rows] = np.minimum(out[rows], mins.T)
        return out


def lsh_candidates(
    signatures: np.ndarray, bands: int, max_bucket: int = 50
) -> set[tuple[int, int]]:
    """Row-index pairs sharing at least one band. A bucket bigger than ``max_bucket``
    (many identical answers) is linked as a chain, which keeps it one cluster without a
    quadratic number of pairs."""
    n, permutations = signatures.shape
    rows = permutations // bands
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        chunk = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        keys = chunk.view(np.dtype((np.void, chunk.dtype.itemsize * rows))).ravel()
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], n]
        for start, end in zip(starts[ends - starts > 1], ends[ends - starts > 1], strict=True):
            members = sorted(order[start:end].tolist())
            if len(members) > max_bucket:
                pairs.update(zip(members, members[1:], strict=False))
            else:
                for i, left in enumerate(members):
                    for right in members[i + 1 :]:
                        pairs.add((left, right))
    return pairs


def estimated_jaccard(signatures: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    if not len(pairs):
        return np.zeros(0)
    return (signatures[pairs[:, 0]] == signatures[pairs[:, 1]]).mean(axis=1)


# -- embeddings ---------------------------------------------------------------------------

SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE.split(text or "") if part.strip()] or [text or ""]


def centred(vectors: np.ndarray) -> np.ndarray:
    """Unit rows after removing the mean row: what all answers to a question share (their
    topic) says nothing about copying, so only what is left is compared."""
    rows = vectors - vectors.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-9)


def nearest_neighbours(vectors: np.ndarray, k: int, block_rows: int = 1024) -> set[tuple[int, int]]:
    """Pairs ``(i < j)`` where ``j`` is among the ``k`` most similar rows of ``i`` or the
    other way round (cosine of unit rows), by matrix products over blocks of rows, so
    memory stays at ``block_rows × n`` floats."""
    n = len(vectors)
    k = min(k, n - 1)
    pairs: set[tuple[int, int]] = set()
    if k <= 0:
        return pairs
    for start in range(0, n, block_rows):
        sims = vectors[start : start + block_rows] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, rows + start] = -np.inf  # not oneself
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for row, neighbours in zip(rows + start, top.tolist(), strict=True):
            for other in neighbours:
                pairs.add((row, other) if row < other else (other, row))
    return pairs


def alignment(a: np.ndarray, b: np.ndarray) -> float:
    """How well two texts' sentences find a counterpart in the other (centred unit sentence
    vectors): the mean over both sides' sentences of their best cosine. A paraphrase keeps
    every sentence's meaning, so each has a close partner; two honest answers share only
    a few."""
    sims = a @ b.T
    return float((sims.max(axis=1).sum() + sims.max(axis=0).sum()) / (len(a) + len(b)))


# -- clusters -----------------------------------------------------------------------------


def union_find_clusters(pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Connected components of the pairs' graph (keys), biggest first."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for key in parent:
        groups.setdefault(find(key), []).append(key)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


# -- detection ----------------------------------------------------------------------------

#: Unit vectors for texts, or ``None`` when they cannot be had (copying is still found).
Embedder = Callable[[list[str]], np.ndarray | None]


def detect(
    documents: Sequence[Document],
    *,
    embed: Embedder | None = None,
    settings: DetectionSettings = DetectionSettings(),  # noqa: B008 - frozen
    progress: Callable[[int, int], None] | None = None,
) -> Detection:
    """Suspicious pairs and clusters among ``documents`` (compared within each group).

    ``embed`` returns unit vectors for texts (``None``, or returning ``None``: copying
    only). ``progress`` is called with (documents done, documents total) after each group.
    """
    timings = {"shingles": 0.0, "minhash": 0.0, "lsh": 0.0, "embed": 0.0, "paraphrase": 0.0}
    hasher = MinHasher(settings.permutations, settings.seed)
    groups: dict[Any, list[tuple[Document, list[str]]]] = {}
    skipped = 0
    for document in documents:
        words = tokens(document.text)
        if len(words) < settings.min_words:
            skipped += 1
            continue
        groups.setdefault(document.group, []).append((document, words))
    total = sum(len(g) for g in groups.values())
    done = 0
    pairs: list[FoundPair] = []
    for group, members in groups.items():
        if len(members) >= 2:
            pairs += _detect_group(group, members, hasher, embed, settings, timings)
        done += len(members)
        if progress is not None:
            progress(done, total)
    clusters = union_find_clusters([(p.a, p.b) for p in pairs])
    return Detection(
        pairs=pairs,
        clusters=clusters,
        documents=total,
        skipped=skipped,
        timings={k: round(v, 3) for k, v in timings.items()},
    )


def _detect_group(group, members, hasher, embed, settings, timings) -> list[FoundPair]:
    clock = time.perf_counter()
    hash_sets = [shingle_hashes(words, settings.shingle_size) for _, words in members]
    timings["shingles"] += time.perf_counter() - clock
    clock = time.perf_counter()
    signatures = hasher.signatures(hash_sets)
    timings["minhash"] += time.perf_counter() - clock
    clock = time.perf_counter()
    candidates = lsh_candidates(signatures, settings.bands, settings.max_bucket)
    timings["lsh"] += time.perf_counter() - clock

    sentence_vectors: list[np.ndarray] | None = None
    if embed is not None:
        clock = time.perf_counter()
        split = [sentences(document.text) for document, _ in members]
        embedded = embed([s for parts in split for s in parts])
        timings["embed"] += time.perf_counter() - clock
        if embedded is not None:
            clock = time.perf_counter()
            flat = np.asarray(embedded, dtype=np.float32)
            owner = np.repeat(np.arange(len(split)), [len(parts) for parts in split])
            # A text's vector: the mean of its sentences' vectors, centred like them.
            sums = np.zeros((len(split), flat.shape[1]), dtype=np.float32)
            np.add.at(sums, owner, flat)
            documents = centred(sums / np.bincount(owner, minlength=len(split))[:, None])
            flat = centred(flat)
            cuts = np.cumsum([len(parts) for parts in split])[:-1]
            sentence_vectors = np.split(flat, cuts)
            candidates |= nearest_neighbours(documents, settings.neighbours, settings.block_rows)
            timings["paraphrase"] += time.perf_counter() - clock

    if not candidates:
        return []
    index = np.array(sorted(candidates), dtype=np.int64).reshape(-1, 2)
    estimates = estimated_jaccard(signatures, index)
    found = []
    clock = time.perf_counter()
    for (i, j), estimate in zip(index.tolist(), estimates.tolist(), strict=True):
        copied = estimate >= settings.jaccard_threshold
        score = None
        if sentence_vectors is not None:
            score = alignment(sentence_vectors[i], sentence_vectors[j])
        paraphrased = score is not None and score >= settings.alignment_threshold
        if not (copied or paraphrased):
            continue
        found.append(
            FoundPair(
                a=members[i][0].key,
                b=members[j][0].key,
                group=group,
                jaccard=round(estimate, 4),
                cosine=None if score is None else round(score, 4),
                reason="both" if copied and paraphrased else "copied" if copied else "paraphrased",
            )
        )
    timings["paraphrase"] += time.perf_counter() - clock
    return found


# -- passages -----------------------------------------------------------------------------


def matching_passages(text_a: str, text_b: str, run: int = 3) -> dict:
    """Both texts cut into segments ``[text, matched]``: a word is matched when it lies in
    a run of at least ``run`` consecutive words that the other text also contains, in any
    order. Also ``matched_words`` (of the shorter side) and ``longest_run`` (the longest
    common run of words in order, by ``difflib``)."""
    spans_a = [(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(text_a or "")]
    spans_b = [(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(text_b or "")]
    words_a = [w for _, _, w in spans_a]
    words_b = [w for _, _, w in spans_b]
    grams_a = _grams(words_a, run)
    grams_b = _grams(words_b, run)
    shared = set(grams_a) & set(grams_b)
    marked_a = _marked(len(words_a), [i for g in shared for i in grams_a[g]], run)
    marked_b = _marked(len(words_b), [i for g in shared for i in grams_b[g]], run)
    matcher = SequenceMatcher(None, words_a, words_b, autojunk=False)
    longest = matcher.find_longest_match(0, len(words_a), 0, len(words_b)).size
    return {
        "a": _segments(text_a or "", spans_a, marked_a),
        "b": _segments(text_b or "", spans_b, marked_b),
        "matched_words": min(sum(marked_a), sum(marked_b)),
        "longest_run": longest,
    }


def _grams(words: list[str], run: int) -> dict[tuple[str, ...], list[int]]:
    grams: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(words) - run + 1):
        grams.setdefault(tuple(words[i : i + run]), []).append(i)
    return grams


def _marked(length: int, starts: list[int], run: int) -> list[bool]:
    marked = [False] * length
    for start in starts:
        for k in range(start, start + run):
            marked[k] = True
    return marked


def _segments(text: str, spans: list[tuple[int, int, str]], marked: list[bool]) -> list:
    """Cut ``text`` where the matched state changes; the characters between two matched
    words (spaces, punctuation) belong to the match."""
    segments: list[list] = []
    cursor = 0
    for index, (start, end, _) in enumerate(spans):
        state = marked[index]
        between = text[cursor:start]
        if between:
            joins = state and index > 0 and marked[index - 1]
            _append(segments, between, joins)
        _append(segments, text[start:end], state)
        cursor = end
    if cursor < len(text):
        _append(segments, text[cursor:], False)
    return segments


def _append(segments: list[list], text: str, matched: bool) -> None:
    if segments and segments[-1][1] == matched:
        segments[-1][0] += text
    else:
        segments.append([text, matched])


# -- reports (the tenant's database) ------------------------------------------------------

FEATURE = "plagiarism"
#: More pairs than this in one report are not stored (the strongest are kept).
MAX_PAIRS = 5000


def collect_documents(*, exam: Any, version: Any = None) -> list[Document]:
    """Submitted essay and short-answer responses of ``exam`` (of ``version`` only, when
    given), grouped by the question they answer (the same bank question across versions)."""
    from assessments.delivery.models import Attempt, Response

    attempts = Attempt.objects.filter(exam=exam, status=Attempt.Status.SUBMITTED)
    if version is not None:
        attempts = attempts.filter(version=version)
    questions: dict[tuple[int, int], Any] = {}
    for attempt_id, items in attempts.values_list("pk", "items").iterator(chunk_size=500):
        for item in items:
            if item["type"] in ("essay", "short_answer"):
                questions[(attempt_id, item["position"])] = (
                    item.get("question_id") or (item["position"])
                )
    if not questions:
        return []
    documents = []
    rows = (
        Response.objects.filter(attempt_id__in={a for a, _ in questions})
        .values_list("pk", "attempt_id", "position", "value")
        .iterator(chunk_size=2000)
    )
    for pk, attempt_id, position, value in rows:
        group = questions.get((attempt_id, position))
        if group is not None and isinstance(value, str) and value.strip():
            documents.append(Document(key=pk, group=group, text=value))
    return documents


def start_report(*, exam: Any, by: Any, version: Any = None) -> Any:
    """Queue a plagiarism report of ``exam``; the task is sent after commit, from this
    schema. A report already queued or running for the exam is returned instead."""
    from django.db import connection, transaction

    from assessments.ai.feature_models import PlagiarismReport
    from assessments.exams.models import Exam

    with transaction.atomic():
        Exam.objects.select_for_update().get(pk=exam.pk)
        running = PlagiarismReport.objects.filter(
            exam=exam, status__in=PlagiarismReport.RUNNING_STATES
        ).first()
        if running is not None:
            return running
        report = PlagiarismReport.objects.create(
            exam=exam, version=version, requested_by=by, settings=DetectionSettings().as_dict()
        )
        schema = connection.schema_name
        transaction.on_commit(lambda: _send(report.pk, schema))
    return report


def _send(report_id: int, schema: str) -> None:
    from assessments.ai import tasks

    tasks.run_plagiarism_report.delay(report_id, schema)


def run_report(
    *, report_id: int, provider: Any = None, settings: DetectionSettings | None = None
) -> Any:
    """Compute a queued report: detect, store the pairs with their passages and the
    clusters, record progress. A finished report is left alone; one found ``running`` (its
    worker died and the task came again) starts over, dropping any pairs it had stored."""
    import logging

    from django.db import transaction
    from django.utils import timezone

    from assessments.ai import metering
    from assessments.ai.base import ProviderError, get_provider
    from assessments.ai.feature_models import PlagiarismPair, PlagiarismReport

    settings = settings or DetectionSettings()
    with transaction.atomic():
        report = (
            PlagiarismReport.objects.select_for_update(skip_locked=True)
            .filter(pk=report_id, status__in=PlagiarismReport.RUNNING_STATES)
            .first()
        )
        if report is None:
            return PlagiarismReport.objects.filter(pk=report_id).first()
        PlagiarismPair.objects.filter(report=report).delete()
        report.status = PlagiarismReport.Status.RUNNING
        report.started_at = timezone.now()
        report.save(update_fields=["status", "started_at"])
    started = time.perf_counter()
    used = settings.as_dict()
    try:
        documents = collect_documents(exam=report.exam, version=report.version)
        PlagiarismReport.objects.filter(pk=report.pk).update(progress_total=len(documents))
        provider = provider or get_provider()
        embedding_failed: list[str] = []

        def embed(texts: list[str]) -> np.ndarray | None:
            if embedding_failed:
                return None
            try:
                result = metering.call(FEATURE, provider.embed, texts, user=report.requested_by)
            except ProviderError as error:
                embedding_failed.append(error.reason)
                return None
            return np.asarray(result.vectors, dtype=np.float32)

        def progress(done: int, total: int) -> None:
            PlagiarismReport.objects.filter(pk=report.pk).update(
                progress_done=done, progress_total=total
            )

        detection = detect(documents, embed=embed, settings=settings, progress=progress)
        texts = {d.key: d.text for d in documents}
        found = sorted(detection.pairs, key=lambda p: (-p.jaccard, -(p.cosine or 0)))[:MAX_PAIRS]
        clusters = union_find_clusters([(p.a, p.b) for p in found])
        cluster_of = {key: n for n, members in enumerate(clusters, start=1) for key in members}
        group_of = {d.key: d.group for d in documents}
        pairs = []
        for pair in found:
            passages = matching_passages(texts[pair.a], texts[pair.b])
            pairs.append(
                PlagiarismPair(
                    report=report,
                    response_a_id=pair.a,
                    response_b_id=pair.b,
                    question_id=pair.group if isinstance(pair.group, int) else None,
                    jaccard=pair.jaccard,
                    cosine=pair.cosine,
                    matched_words=passages["matched_words"],
                    reason=pair.reason,
                    cluster=cluster_of[pair.a],
                    passages=passages,
                )
            )
        PlagiarismPair.objects.bulk_create(pairs, batch_size=500)
        used["embedding"] = f"unavailable: {embedding_failed[0]}" if embedding_failed else "used"
        used["timings"] = detection.timings
        used["skipped_short"] = detection.skipped
        PlagiarismReport.objects.filter(pk=report.pk).update(
            status=PlagiarismReport.Status.DONE,
            responses_count=detection.documents,
            pairs_count=len(pairs),
            clusters=[
                {"id": n, "responses": members, "question_id": group_of[members[0]]}
                for n, members in enumerate(clusters, start=1)
            ],
            settings=used,
            progress_done=len(documents),
            duration_ms=int((time.perf_counter() - started) * 1000),
            finished_at=timezone.now(),
        )
    except Exception as error:
        logging.getLogger(__name__).exception("plagiarism report %s failed", report.pk)
        PlagiarismReport.objects.filter(pk=report.pk).update(
            status=PlagiarismReport.Status.FAILED,
            message=f"The report stopped: {type(error).__name__}.",
            finished_at=timezone.now(),
        )
    return PlagiarismReport.objects.get(pk=report.pk)


def latest_report(*, exam: Any) -> Any:
    from assessments.ai.feature_models import PlagiarismReport

    return PlagiarismReport.objects.filter(exam=exam).order_by("-created", "-id").first()
