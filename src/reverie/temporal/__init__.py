"""Scale-out on Temporal: an agent run as a workflow, each model request and tool call an activity.

    import reverie.temporal
    from temporalio.client import Client

    client = await Client.connect("localhost:7233")
    worker = reverie.temporal.worker(client, "agents", {"support": agent})   # in each worker process
    await worker.run()

    handle = await reverie.temporal.start_run(
        client, "agents", "support", "Where is my order?", run_id="order-42"
    )
    result = await handle.result()                                           # an AgentResult

The workflow is the run machine (``reverie._run.machine.Run``): it decides every step, retry
and wait, and Temporal records what each activity returned, so a run survives its worker: when
a worker dies, another one replays the workflow from its history (no completed request is sent
again) and takes over the activity that was in progress. Model requests stream and heartbeat;
a model error goes back to the machine, which retries as in-process runs do.

Needs the ``temporal`` extra (``pip install "reverie[temporal]"``): Temporal's Python SDK, which
this package imports (``import reverie`` does not). See the guide, ``docs/temporal.md``.
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("temporalio") is None:  # pragma: no cover - the extra is installed in CI
    raise ImportError('reverie.temporal needs Temporal\'s SDK: pip install "reverie[temporal]"')

from reverie.temporal._client import (
    RunHandle,
    RunStoppedError,
    TemporalError,
    get_run,
    start_run,
    worker,
)

__all__ = ["RunHandle", "RunStoppedError", "TemporalError", "get_run", "start_run", "worker"]
