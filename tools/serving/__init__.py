"""Serving an operating point exported by `jobs/export-operating-point.sh` (see docs/deploying.md).

`refusal_operating_point` is the one file a user copies next to their server; the other modules are
the proof (`verify_decisions`), the torch-only demo (`demo_first_tokens`) and the evidence for the
every-position caveat of a server-side logit bias (`later_positions`).
"""
