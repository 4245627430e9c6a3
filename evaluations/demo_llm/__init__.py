"""The demo model endpoint: an OpenAI-compatible server with simulated models (SPEC §7.6)."""

from evaluations.demo_llm.server import DemoConfig, DemoServer, serve_in_thread

__all__ = ["DemoConfig", "DemoServer", "serve_in_thread"]
