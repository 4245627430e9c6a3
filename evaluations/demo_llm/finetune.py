"""Simulated files and fine-tuning jobs.

A job's status and events are computed from the time elapsed since it was created — nothing runs
in the background: `validating_files` for the first 10% of the simulated duration, `queued` for
the next 10%, `running` until the end, then `succeeded` (or `failed` right after validation
when the training file is not usable, or `cancelled` when cancelled first).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from evaluations.demo_llm.errors import ApiError
from prompts.tokens import count_message_tokens

ORGANIZATION = "crossover-demo"
MIN_EXAMPLES = 10
DEFAULT_EPOCHS = 3
ROLES = {"system", "developer", "user", "assistant", "tool"}
VALIDATING_SHARE, QUEUED_SHARE = 0.1, 0.1
METRIC_EVENTS = 5
TERMINAL = {"succeeded", "failed", "cancelled"}


@dataclass(frozen=True)
class TrainingCheck:
    examples: int
    tokens: int
    error: str | None


def check_training_file(content: bytes, model: str) -> TrainingCheck:
    """Validate chat-format JSONL as OpenAI does; the first problem found is the error."""
    examples = tokens = 0
    lines = content.decode("utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return TrainingCheck(examples, tokens, f"line {number}: not valid JSON")
        messages = record.get("messages") if isinstance(record, dict) else None
        if not isinstance(messages, list) or not messages:
            return TrainingCheck(examples, tokens, f"line {number}: missing 'messages' list")
        for message in messages:
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ROLES:
                return TrainingCheck(
                    examples, tokens, f"line {number}: unknown role {role!r} in 'messages'"
                )
        if not any(m["role"] == "assistant" for m in messages):
            return TrainingCheck(examples, tokens, f"line {number}: no assistant message")
        examples += 1
        tokens += count_message_tokens(messages, model)
    if examples < MIN_EXAMPLES:
        return TrainingCheck(
            examples,
            tokens,
            f"the training file has {examples} examples; at least {MIN_EXAMPLES} are required",
        )
    return TrainingCheck(examples, tokens, None)


@dataclass
class UploadedFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: float

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": int(self.created_at),
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "simulated": True,
        }


@dataclass
class Job:
    id: str
    model: str
    training_file: str
    validation_file: str | None
    suffix: str | None
    n_epochs: int
    seed: int
    created_at: float
    duration: float
    check: TrainingCheck
    metadata: dict | None = None
    cancelled_at: float | None = None

    @property
    def fine_tuned_model(self) -> str:
        return f"ft:{self.model}:{ORGANIZATION}:{self.suffix or ''}:{self.id[-8:]}"

    @property
    def validated_at(self) -> float:
        return self.created_at + VALIDATING_SHARE * self.duration

    @property
    def started_at(self) -> float:
        return self.created_at + (VALIDATING_SHARE + QUEUED_SHARE) * self.duration

    @property
    def ends_at(self) -> float:
        """When the job reaches its own terminal state, unless cancelled before."""
        return self.validated_at if self.check.error else self.created_at + self.duration

    def status(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "cancelled"
        if now < self.validated_at:
            return "validating_files"
        if self.check.error:
            return "failed"
        if now < self.started_at:
            return "queued"
        return "running" if now < self.ends_at else "succeeded"

    def as_dict(self, now: float) -> dict:
        status = self.status(now)
        finished_at = self.cancelled_at if status == "cancelled" else self.ends_at
        return {
            "id": self.id,
            "object": "fine_tuning.job",
            "model": self.model,
            "created_at": int(self.created_at),
            "finished_at": int(finished_at) if status in TERMINAL else None,
            "estimated_finish": int(self.ends_at) if status not in TERMINAL else None,
            "fine_tuned_model": self.fine_tuned_model if status == "succeeded" else None,
            "organization_id": ORGANIZATION,
            "result_files": [],
            "status": status,
            "trained_tokens": self.check.tokens * self.n_epochs if status == "succeeded" else None,
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "hyperparameters": {
                "n_epochs": self.n_epochs,
                "batch_size": 1,
                "learning_rate_multiplier": 1.0,
            },
            "method": {"type": "supervised"},
            "seed": self.seed,
            "suffix": self.suffix,
            "metadata": self.metadata,
            "error": (
                {"code": "invalid_training_file", "message": self.check.error, "param": None}
                if status == "failed"
                else None
            ),
            "simulated": True,
        }

    def events(self, now: float) -> list[dict]:
        """Events that have happened by `now`, newest first (as the API lists them)."""
        timeline = [
            (self.created_at, "message", f"Created fine-tuning job: {self.id}", None),
            (self.created_at, "message", f"Validating training file: {self.training_file}", None),
        ]
        if self.check.error:
            timeline.append(
                (self.validated_at, "error", f"Training file is invalid: {self.check.error}", None)
            )
        else:
            timeline += [
                (self.validated_at, "message", "Files validated, moving job to queued state", None),
                (self.started_at, "message", "Fine-tuning job started", None),
                *self._metric_events(),
                (
                    self.ends_at,
                    "message",
                    f"New fine-tuned model created: {self.fine_tuned_model}",
                    None,
                ),
                (self.ends_at, "message", "The job has successfully completed", None),
            ]
        if self.cancelled_at is not None:
            timeline = [event for event in timeline if event[0] <= self.cancelled_at]
            timeline.append((self.cancelled_at, "message", "Job cancelled", None))
        happened = [event for event in timeline if event[0] <= now]
        return [
            {
                "id": f"ftevent-{self.id[6:]}-{index:03d}",
                "object": "fine_tuning.job.event",
                "created_at": int(at),
                "level": "error" if kind == "error" else "info",
                "type": "metrics" if kind == "metrics" else "message",
                "message": message,
                "data": data,
            }
            for index, (at, kind, message, data) in reversed(list(enumerate(happened)))
        ]

    def _metric_events(self) -> list[tuple[float, str, str, dict]]:
        total_steps = self.check.examples * self.n_epochs
        rng = random.Random(f"{self.seed}:{self.id}")
        running = self.ends_at - self.started_at
        events = []
        for i in range(1, METRIC_EVENTS + 1):
            step = round(total_steps * i / METRIC_EVENTS)
            loss = round(2.0 * 0.6**i + 0.05 * rng.random(), 4)
            events.append(
                (
                    self.started_at + running * i / (METRIC_EVENTS + 1),
                    "metrics",
                    f"Step {step}/{total_steps}: training loss={loss}",
                    {"step": step, "total_steps": total_steps, "train_loss": loss},
                )
            )
        return events


@dataclass
class FineTuneStore:
    """In-memory files and jobs of one server process (lost when it stops)."""

    duration: float
    models: set[str]
    clock: Callable[[], float] = time.time
    files: dict[str, UploadedFile] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_file(self, *, filename: str, purpose: str, content: bytes) -> UploadedFile:
        if purpose != "fine-tune":
            raise ApiError(
                400, f"Only purpose 'fine-tune' is simulated, not {purpose!r}.", param="purpose"
            )
        uploaded = UploadedFile(
            f"file-{uuid.uuid4().hex[:24]}", filename, purpose, content, self.clock()
        )
        with self.lock:
            self.files[uploaded.id] = uploaded
        return uploaded

    def get_file(self, file_id: str) -> UploadedFile:
        with self.lock:
            uploaded = self.files.get(file_id)
        if uploaded is None:
            raise ApiError(404, f"No such File object: {file_id}", param="id")
        return uploaded

    def create_job(self, body: dict) -> Job:
        model = body.get("model")
        if not isinstance(model, str) or model not in self.fine_tunable_models():
            raise ApiError(
                400, f"Model {model!r} is not available for fine-tuning here.", param="model"
            )
        training = self._training_file(body.get("training_file"), "training_file")
        validation_id = body.get("validation_file")
        if validation_id is not None:
            self._training_file(validation_id, "validation_file")
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or len(suffix) > 64):
            raise ApiError(400, "suffix must be a string of at most 64 characters.", param="suffix")
        job = Job(
            id=f"ftjob-{uuid.uuid4().hex[:24]}",
            model=model,
            training_file=training.id,
            validation_file=validation_id,
            suffix=suffix,
            n_epochs=_epochs(body),
            seed=body.get("seed") if isinstance(body.get("seed"), int) else 42,
            created_at=self.clock(),
            duration=self.duration,
            check=check_training_file(training.content, model),
            metadata=body.get("metadata"),
        )
        with self.lock:
            self.jobs[job.id] = job
        return job

    def get_job(self, job_id: str) -> Job:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"No such fine-tuning job: {job_id}", param="fine_tuning_job_id")
        return job

    def cancel_job(self, job_id: str) -> Job:
        job = self.get_job(job_id)
        now = self.clock()
        with self.lock:
            if job.status(now) in TERMINAL:
                raise ApiError(400, f"Job {job_id} has already finished; it cannot be cancelled.")
            job.cancelled_at = now
        return job

    def fine_tunable_models(self) -> set[str]:
        return self.models | set(self.fine_tuned_models())

    def fine_tuned_models(self) -> list[str]:
        now = self.clock()
        with self.lock:
            jobs = list(self.jobs.values())
        return [job.fine_tuned_model for job in jobs if job.status(now) == "succeeded"]

    def _training_file(self, file_id: object, param: str) -> UploadedFile:
        with self.lock:
            uploaded = self.files.get(file_id) if isinstance(file_id, str) else None
        if uploaded is None:
            raise ApiError(400, f"File {file_id!r} does not exist.", param=param)
        if uploaded.purpose != "fine-tune":
            raise ApiError(400, f"File {file_id} was not uploaded for fine-tuning.", param=param)
        return uploaded


def _epochs(body: dict) -> int:
    hyper = body.get("hyperparameters") or (
        ((body.get("method") or {}).get("supervised") or {}).get("hyperparameters") or {}
    )
    n_epochs = hyper.get("n_epochs", "auto") if isinstance(hyper, dict) else "auto"
    if n_epochs == "auto":
        return DEFAULT_EPOCHS
    if not isinstance(n_epochs, int) or isinstance(n_epochs, bool) or not 1 <= n_epochs <= 50:
        raise ApiError(
            400, "n_epochs must be 'auto' or an integer from 1 to 50.", param="hyperparameters"
        )
    return n_epochs
