"""Batches: many prompts to one agent, with bounded concurrency, a shared budget and resume.

The colour-free parts live here: the items and their parsing (``items``), the per-item
outcomes and output lines (``results``), the SQLite store of finished items (``store``), the
progress display (``progress``) and the shared state the workers draw from (``work``). The
runners that send the requests are ``reverie._async.batch`` (``run_batch_async``) and its
generated twin ``reverie._sync.batch`` (``run_batch``). Nothing here sends a request.
"""
