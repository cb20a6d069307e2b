"""The async flavour's runner (``_backend.AsyncRunner``): the client's task group, whose tasks are
started on asyncio as plain tasks of the group's cancel scope (``_spawn_on_asyncio``), without anyio's
``TaskHandle``, and with ``start_soon`` everywhere else. Either way it behaves as anyio's task group:
leaving waits for the task, a failing task cancels the body and is raised in an exception group, an
outer cancellation reaches the task, and a task cancelled by itself cancels the group."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import anyio
import pytest

from webcast_transports import _backend
from webcast_transports._backend import AsyncRunner

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

BACKENDS = ["asyncio", "trio"]


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each start() took the asyncio path (True) or anyio's start_soon (False)."""
    taken: list[bool] = []
    original = _backend._spawn_on_asyncio

    def spy(*args: object) -> bool:
        result = original(*args)  # type: ignore[arg-type]  # passed through as given
        taken.append(result)
        return result

    monkeypatch.setattr(_backend, "_spawn_on_asyncio", spy)
    return taken


def _expected_path(backend: str) -> list[bool]:
    # Python 3.14 tasks record who awaits them, which this path leaves to anyio.
    return [backend == "asyncio" and sys.version_info < (3, 14)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_leaving_the_runner_waits_for_its_task(backend: str, spawned: list[bool]) -> None:
    """The task runs in the background; leaving the runner returns once it has finished."""
    steps: list[str] = []

    async def work() -> None:
        await anyio.sleep(0.02)
        steps.append("done")

    async def main() -> None:
        async with AsyncRunner() as runner:
            runner.start(work, "webcast test")
            steps.append("started")
        steps.append("left")

    anyio.run(main, backend=backend)
    assert steps == ["started", "done", "left"]
    assert spawned == _expected_path(backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failing_task_cancels_the_body_and_is_raised_in_a_group(backend: str, spawned: list[bool]) -> None:
    """A task's exception cancels the runner's scope (the body's wait ends) and comes out of the exit
    in an exception group, as anyio's task group raises it."""
    cancelled: list[bool] = []

    async def fail() -> None:
        await anyio.sleep(0)
        raise RuntimeError("bug in the driver")

    async def main() -> None:
        async with AsyncRunner() as runner:
            runner.start(fail, "webcast test")
            try:
                await anyio.sleep(5)
            except anyio.get_cancelled_exc_class():
                cancelled.append(True)
                raise

    with pytest.raises(BaseException, match=r"unhandled errors|Trio nursery") as caught:  # an ExceptionGroup
        anyio.run(main, backend=backend)
    assert type(caught.value).__name__.endswith("ExceptionGroup")
    assert [type(e) for e in getattr(caught.value, "exceptions", ())] == [RuntimeError]
    assert cancelled == [True]
    assert spawned == _expected_path(backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_outer_cancellation_reaches_the_task(backend: str, spawned: list[bool]) -> None:
    """Cancelling a scope around the runner cancels its task at once, as it does a task group's."""
    seen: list[str] = []

    async def wait_long() -> None:
        try:
            await anyio.sleep(5)
        except anyio.get_cancelled_exc_class():
            seen.append("task cancelled")
            raise

    async def main() -> None:
        with anyio.move_on_after(0.05) as scope:
            async with AsyncRunner() as runner:
                runner.start(wait_long, "webcast test")
                await anyio.sleep(5)
        assert scope.cancelled_caught
        seen.append("left")

    anyio.run(main, backend=backend)
    assert seen == ["task cancelled", "left"]
    assert spawned == _expected_path(backend)


def test_a_task_cancelled_on_its_own_cancels_the_group(spawned: list[bool]) -> None:
    """An asyncio task cancelled directly (not by a scope) cancels the runner's body, as anyio's
    task_done does; nothing is raised for it."""
    body: list[str] = []

    async def main() -> None:
        async with AsyncRunner() as runner:
            runner.start(anyio.sleep_forever, "webcast test")
            await anyio.sleep(0.01)
            (task,) = (t for t in asyncio.all_tasks() if t.get_name() == "webcast test")
            task.cancel()
            try:
                await anyio.sleep(5)
            except anyio.get_cancelled_exc_class():
                body.append("cancelled")
                raise
        body.append("left")

    anyio.run(main, backend="asyncio")
    assert body == ["cancelled", "left"]
    assert spawned == _expected_path("asyncio")


def test_a_task_factory_leaves_the_task_to_anyio(spawned: list[bool]) -> None:
    """With a task factory set on the loop (an eager one would run the task before it is set up),
    the task is started by anyio's start_soon."""
    steps: list[str] = []

    async def work() -> None:
        steps.append("ran")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(lambda loop, coro, **kw: asyncio.Task(coro, loop=loop, **kw))
        try:
            async with AsyncRunner() as runner:
                runner.start(work, "webcast test")
        finally:
            loop.set_task_factory(None)

    anyio.run(main, backend="asyncio")
    assert steps == ["ran"]
    assert spawned == [False]


class _OtherSet(set):  # type: ignore[type-arg]  # any items
    """A set of another type, which anyio itself can still use."""


class _OtherTaskState:
    """A task state of another layout (one slot more), which anyio itself can still use."""

    __slots__ = ("__weakref__", "cancel_scope", "extra", "parent_id")

    def __init__(self, parent_id: int | None, cancel_scope: object) -> None:
        self.parent_id = parent_id
        self.cancel_scope = cancel_scope


@pytest.mark.parametrize(
    "breakage",
    [
        "task_states",
        "task_state",
        "group_tasks",
    ],
)
def test_an_unknown_anyio_layout_leaves_the_task_to_anyio(
    breakage: str, spawned: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should anyio's private attributes differ from what the asyncio path knows, start_soon runs the
    task, which still works."""
    module = sys.modules["anyio._backends._asyncio"]
    steps: list[str] = []

    async def work() -> None:
        steps.append("ran")

    async def main() -> None:
        async with AsyncRunner() as runner:
            if breakage == "group_tasks":
                assert runner._group is not None
                monkeypatch.setattr(runner._group, "_tasks", _OtherSet(runner._group._tasks))  # type: ignore[attr-defined]
            runner.start(work, "webcast test")
            if breakage == "group_tasks":
                monkeypatch.undo()

    if breakage == "task_states":
        monkeypatch.setattr(module, "_task_states", {})
    elif breakage == "task_state":
        monkeypatch.setattr(module, "TaskState", _OtherTaskState)
    anyio.run(main, backend="asyncio")
    assert steps == ["ran"]
    assert spawned == [False]


def test_an_anyio_without_task_handles_spawns_its_own_tasks(
    spawned: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before anyio 4.14 start_soon already makes a plain task: the asyncio path stands aside."""
    monkeypatch.setattr(_backend, "_ANYIO_HAS_TASK_HANDLES", False)
    steps: list[str] = []

    async def work() -> None:
        steps.append("ran")

    async def main() -> None:
        async with AsyncRunner() as runner:
            runner.start(work, "webcast test")

    anyio.run(main, backend="asyncio")
    assert steps == ["ran"]
    assert spawned == [False]


def test_start_refuses_a_runner_not_entered() -> None:
    """start() outside the runner's block is a RuntimeError (nothing is started)."""

    async def work() -> None:  # pragma: no cover  # never started
        pass

    start: Callable[[Callable[[], Coroutine[object, object, None]], str], None] = AsyncRunner().start
    with pytest.raises(RuntimeError, match="not running"):
        start(work, "webcast test")
