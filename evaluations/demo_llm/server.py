"""The demo model endpoint: an OpenAI-compatible HTTP server answering with simulated models.

Standard library only. `ThreadingHTTPServer` gives each connection its own thread, so one
request's simulated latency (or injected hang) never holds up another's; sleeps wait on the
server's `stopping` event so that shutdown is immediate.
"""

from __future__ import annotations

import email.policy
import json
import random
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from evaluations.demo_llm import profiles
from evaluations.demo_llm.errors import ApiError
from evaluations.demo_llm.finetune import FineTuneStore
from prompts.tokens import count_message_tokens, encoding_for

MAX_BODY_BYTES = 64 * 1024 * 1024
INJECT_HEADER = "X-Demo-Inject"
INJECTIONS = ("429", "500", "timeout", "none")
INVALID_TOKEN = "invalid"  # the one bearer token answered with 401, to exercise auth errors


@dataclass(frozen=True)
class DemoConfig:
    host: str = "127.0.0.1"
    port: int = 8089  # 0 picks a free port
    seed: int = 0
    latency_ms: float = 200.0  # base latency, scaled by each profile
    latency_per_token_ms: float = 0.05  # per prompt token: 50 ms per 1,000 tokens
    jitter_ms: float = 50.0
    rate_429: float = 0.0  # share of requests answered 429
    rate_500: float = 0.0  # share of requests answered 500
    timeout_rate: float = 0.0  # share of requests that hang without answering
    hang_seconds: float = 120.0
    retry_after_ms: int = 500  # sent with injected 429/500 answers
    finetune_seconds: float = 30.0  # simulated duration of a fine-tuning job
    quiet: bool = False  # no access log

    def __post_init__(self) -> None:
        rates = (self.rate_429, self.rate_500, self.timeout_rate)
        if not all(0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be shares from 0 to 1 that add up to at most 1")


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks open hundreds of connections at once; a short listen backlog drops SYNs, which
    # clients retry only after a second (the kernel caps this at net.core.somaxconn).
    request_queue_size = 1024

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.store = FineTuneStore(duration=config.finetune_seconds, models=set(profiles.PROFILES))
        self.stopping = threading.Event()
        self.created = int(time.time())
        self.injected: dict[str, int] = {"429": 0, "500": 0, "timeout": 0}
        self._faults = random.Random(config.seed)
        self._faults_lock = threading.Lock()
        super().__init__((config.host, config.port), DemoHandler)
        # Load the tokenizer now rather than on the first request, whose latency it would skew.
        threading.Thread(
            target=encoding_for, args=(next(iter(profiles.PROFILES)),), daemon=True
        ).start()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def draw_fault(self, requested: str | None) -> str | None:
        """The fault to inject: the request's header wins, else the configured rates."""
        if requested is None:
            with self._faults_lock:
                draw = self._faults.random()
            config = self.config
            for fault, rate in (
                ("429", config.rate_429),
                ("500", config.rate_500),
                ("timeout", config.timeout_rate),
            ):
                if draw < rate:
                    requested = fault
                    break
                draw -= rate
        if requested in self.injected:
            with self._faults_lock:
                self.injected[requested] += 1
            return requested
        return None

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class DemoHandler(BaseHTTPRequestHandler):
    server: DemoServer
    protocol_version = "HTTP/1.1"
    server_version = "CrossoverDemoLLM/1 (simulated)"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body would wait for
    # the client's delayed ACK (~40 ms) on every keep-alive response.
    disable_nagle_algorithm = True

    routes = (
        ("GET", re.compile(r"/v1/models"), "list_models"),
        ("GET", re.compile(r"/v1/models/(?P<model>[^/]+)"), "get_model"),
        ("POST", re.compile(r"/v1/chat/completions"), "chat_completion"),
        ("POST", re.compile(r"/v1/files"), "upload_file"),
        ("GET", re.compile(r"/v1/files/(?P<file_id>[^/]+)"), "get_file"),
        ("POST", re.compile(r"/v1/fine_tuning/jobs"), "create_job"),
        ("GET", re.compile(r"/v1/fine_tuning/jobs/(?P<job_id>[^/]+)"), "get_job"),
        ("GET", re.compile(r"/v1/fine_tuning/jobs/(?P<job_id>[^/]+)/events"), "list_events"),
        ("POST", re.compile(r"/v1/fine_tuning/jobs/(?P<job_id>[^/]+)/cancel"), "cancel_job"),
    )

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args) -> None:
        if not self.server.config.quiet:
            sys.stderr.write(f"[demo_llm simulated] {self.address_string()} {format % args}\n")

    # -- plumbing ------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        try:
            self.body = self._read_body()
            self._check_auth()
            route = next(
                (
                    (name, match.groupdict())
                    for verb, pattern, name in self.routes
                    if verb == method and (match := pattern.fullmatch(url.path.rstrip("/")))
                ),
                None,
            )
            if route is None:
                raise ApiError(404, f"Unknown route {method} {url.path} (simulated endpoint).")
            if self._inject_fault():
                return
            name, kwargs = route
            getattr(self, name)(**{key: unquote(value) for key, value in kwargs.items()})
        except ApiError as error:
            self._send_json(error.status, error.body(), self._error_headers(error))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its own timeout)
        except Exception as error:  # a bug must still answer in OpenAI's error shape
            self.log_error("unhandled error: %r", error)
            failure = ApiError(500, "The simulated server failed.", type="server_error")
            self._send_json(500, failure.body())

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            self.close_connection = True
            raise ApiError(411, "Send a Content-Length; chunked bodies are not supported.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "Content-Length must be an integer.") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, f"Request body larger than {MAX_BODY_BYTES} bytes.")
        return self.rfile.read(length) if length else b""

    def _check_auth(self) -> None:
        # A local simulator: any bearer token (or none) is accepted, except `invalid`.
        auth = self.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ").strip() == INVALID_TOKEN:
            raise ApiError(
                401,
                "Incorrect API key provided: invalid (simulated endpoint).",
                code="invalid_api_key",
            )

    def _inject_fault(self) -> bool:
        requested = self.headers.get(INJECT_HEADER)
        if requested is not None and requested.lower() not in INJECTIONS:
            raise ApiError(
                400, f"{INJECT_HEADER} must be one of {', '.join(INJECTIONS)}.", param=INJECT_HEADER
            )
        fault = self.server.draw_fault(requested.lower() if requested else None)
        if fault == "429":
            raise ApiError(
                429,
                "Rate limit reached (simulated).",
                type="requests",
                code="rate_limit_exceeded",
            )
        if fault == "500":
            raise ApiError(500, "The server had an error (simulated).", type="server_error")
        if fault == "timeout":
            # Hang without answering; end the connection when the wait is over.
            self.server.stopping.wait(self.server.config.hang_seconds)
            self.close_connection = True
            return True
        return False

    def _error_headers(self, error: ApiError) -> dict[str, str]:
        if error.status in (429, 500):
            return {"retry-after-ms": str(self.server.config.retry_after_ms)}
        return {}

    def _json_body(self) -> dict:
        try:
            body = json.loads(self.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return body

    def _send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Demo-Simulated", "true")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:24]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    # -- models --------------------------------------------------------------------------------

    def _model_object(self, model: str) -> dict:
        profile = profiles.profile_for(model)
        return {
            "id": model,
            "object": "model",
            "created": self.server.created,
            "owned_by": profiles.OWNER,
            "description": profile.description if profile else "",
            "simulated": True,
        }

    def _served_models(self) -> list[str]:
        return [*profiles.PROFILES, *self.server.store.fine_tuned_models()]

    def list_models(self) -> None:
        data = [self._model_object(model) for model in self._served_models()]
        self._send_json(200, {"object": "list", "data": data, "simulated": True})

    def get_model(self, model: str) -> None:
        if model not in self._served_models():
            raise ApiError(404, f"The model {model!r} does not exist.", code="model_not_found")
        self._send_json(200, self._model_object(model))

    # -- chat ----------------------------------------------------------------------------------

    def chat_completion(self) -> None:
        body = self._json_body()
        model = body.get("model")
        messages = body.get("messages")
        if not isinstance(model, str) or not model:
            raise ApiError(400, "model is required.", param="model")
        if model not in self._served_models():
            raise ApiError(
                404,
                f"The model {model!r} does not exist. Try one of {', '.join(profiles.PROFILES)}.",
                param="model",
                code="model_not_found",
            )
        if not (
            isinstance(messages, list)
            and messages
            and all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages)
        ):
            raise ApiError(
                400, "messages must be a non-empty list of {role, content}.", param="messages"
            )
        if body.get("stream"):
            raise ApiError(400, "Streaming is not simulated; send stream=false.", param="stream")
        if body.get("n", 1) != 1:
            raise ApiError(400, "Only n=1 is simulated.", param="n")
        response_format = body.get("response_format")
        if response_format is not None and not isinstance(response_format, dict):
            raise ApiError(400, "response_format must be an object.", param="response_format")
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ApiError(400, "max_tokens must be a positive integer.", param="max_tokens")

        config = self.server.config
        profile = profiles.profile_for(model)
        digest = profiles.request_digest(config.seed, model, messages, response_format)
        reply = profiles.respond(profile, messages, response_format=response_format, digest=digest)
        prompt_tokens = count_message_tokens(messages, model)
        encoding = encoding_for(model)
        completion = encoding.encode_ordinary(reply.text)
        text, finish_reason = reply.text, "stop"
        if max_tokens is not None and len(completion) > max_tokens:
            completion = completion[:max_tokens]
            text, finish_reason = encoding.decode(completion), "length"
        latency_ms = profiles.simulated_latency_ms(
            profile,
            prompt_tokens=prompt_tokens,
            base_ms=config.latency_ms,
            per_token_ms=config.latency_per_token_ms,
            jitter_ms=config.jitter_ms,
            digest=digest,
        )
        if self.server.stopping.wait(latency_ms / 1000):
            self.close_connection = True
            return
        self._send_json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": profiles.OWNER,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "finish_reason": finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(completion),
                    "total_tokens": prompt_tokens + len(completion),
                },
                "simulated": True,
            },
            {
                "X-Demo-Latency-Ms": f"{latency_ms:.3f}",
                "X-Demo-Reply-Kind": reply.kind,
            },
        )

    # -- files and fine-tuning -----------------------------------------------------------------

    def upload_file(self) -> None:
        fields = parse_multipart(self.headers.get("Content-Type", ""), self.body)
        if "file" not in fields:
            raise ApiError(400, "A multipart field 'file' is required.", param="file")
        filename, content = fields["file"]
        purpose = (fields.get("purpose") or (None, b""))[1].decode()
        uploaded = self.server.store.add_file(
            filename=filename or "upload.jsonl", purpose=purpose, content=content
        )
        self._send_json(200, uploaded.as_dict())

    def get_file(self, file_id: str) -> None:
        self._send_json(200, self.server.store.get_file(file_id).as_dict())

    def create_job(self) -> None:
        job = self.server.store.create_job(self._json_body())
        self._send_json(200, job.as_dict(time.time()))

    def get_job(self, job_id: str) -> None:
        self._send_json(200, self.server.store.get_job(job_id).as_dict(time.time()))

    def list_events(self, job_id: str) -> None:
        events = self.server.store.get_job(job_id).events(time.time())
        after = self.query.get("after")
        if after:
            ids = [event["id"] for event in events]
            events = events[ids.index(after) + 1 :] if after in ids else []
        try:
            limit = max(1, min(int(self.query.get("limit", 20)), 100))
        except ValueError:
            raise ApiError(400, "limit must be an integer.", param="limit") from None
        page = {"object": "list", "data": events[:limit], "has_more": len(events) > limit}
        self._send_json(200, {**page, "simulated": True})

    def cancel_job(self, job_id: str) -> None:
        self._send_json(200, self.server.store.cancel_job(job_id).as_dict(time.time()))


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """`{field name: (filename, bytes)}` of a multipart/form-data body."""
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(400, "Upload files as multipart/form-data.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


def banner(server: DemoServer) -> str:
    return (
        f"Crossover demo model endpoint — SIMULATED models, not a real LLM — at {server.base_url}\n"
        f"  models: {', '.join(profiles.PROFILES)} (owned_by {profiles.OWNER}); "
        f"fine-tuning jobs take {server.config.finetune_seconds:g}s"
    )


@contextmanager
def serve_in_thread(config: DemoConfig) -> Iterator[DemoServer]:
    """Run a demo server in a background thread for the duration of the block (tests, bench)."""
    server = DemoServer(config)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join()
