"""The hub's pure parts: parsing a notification once, routing it, bounded queues, the shared SSE frame."""

from __future__ import annotations

import json
import uuid

from aiohttp import web
from aiohttp_sse import sse_response

from server.hub import Hub
from server.streams import JobEvent, frame

JOB = uuid.uuid4()
USER = uuid.uuid4()


def payload(seq: int = 3, status: str = "processing", job=JOB, user=USER) -> str:
    return json.dumps({"id": str(job), "status": status, "seq": seq, "progress": 40,
                       "current_step": "Aktivitet 1/2\nrad två", "user_id": str(user)})


def test_a_notification_is_parsed_once_and_user_id_never_reaches_a_client():
    """The event's data is the job object on one line without user_id, in both frames."""
    event = JobEvent.from_payload(payload())
    assert (event.job_id, event.user_id, event.seq, event.name) == (str(JOB), str(USER), 3, "progress")
    assert "user_id" not in json.loads(event.data) and "\n" not in event.data
    assert event.job_frame == f"id: 3\r\nevent: progress\r\ndata: {event.data}\r\n\r\n".encode()
    assert event.user_frame.startswith(f"id: {JOB}:3\r\nevent: progress\r\n".encode())
    assert b"user_id" not in event.job_frame + event.user_frame


def test_terminal_statuses_name_their_event():
    """completed, failed and cancelled are their own event names; every other status is `progress`."""
    names = {s: JobEvent.from_payload(payload(status=s)).name
             for s in ("pending", "processing", "cancelling", "completed", "failed", "cancelled")}
    assert names == {"pending": "progress", "processing": "progress", "cancelling": "progress",
                     "completed": "completed", "failed": "failed", "cancelled": "cancelled"}
    assert JobEvent.from_payload(payload(status="cancelled")).terminal


async def test_an_event_reaches_subscribers_of_its_job_and_of_its_user_only():
    """Routing is by job id and by user id; a subscriber of another job or user gets nothing."""
    hub = Hub("postgresql://unused")
    by_job, by_user = hub.subscribe_job(JOB), hub.subscribe_user(USER)
    other_job, other_user = hub.subscribe_job(uuid.uuid4()), hub.subscribe_user(uuid.uuid4())
    event = JobEvent.from_payload(payload())
    hub.publish(event)
    assert by_job.queue.get_nowait() is event and by_user.queue.get_nowait() is event
    assert other_job.queue.empty() and other_user.queue.empty()
    hub.unsubscribe(by_job)
    assert hub.subscriber_count == 3


async def test_a_subscriber_whose_queue_is_full_is_dropped_and_the_others_are_not():
    """Overflowing a bounded queue ends that stream (on_drop runs, get() gives None); others keep theirs."""
    hub = Hub("postgresql://unused", queue_size=2)
    slow, fast = hub.subscribe_job(JOB), hub.subscribe_job(JOB)
    aborted = []
    slow.on_drop(lambda: aborted.append(True))
    for seq in (2, 3):
        hub.publish(JobEvent.from_payload(payload(seq)))
        assert (await fast.get()).seq == seq
    hub.publish(JobEvent.from_payload(payload(4)))
    assert aborted == [True] and slow.dropped and hub.dropped_clients == 1
    assert await slow.get() is None
    assert (await fast.get()).seq == 4
    assert hub.subscriber_count == 1


async def test_closing_the_streams_ends_every_subscriber_and_refuses_new_ones():
    """Shutdown gives every reader None at once, and a subscription made afterwards is already closed."""
    hub = Hub("postgresql://unused")
    subs = [hub.subscribe_job(JOB), hub.subscribe_user(USER)]
    hub.publish(JobEvent.from_payload(payload()))
    hub.close_streams()
    assert [await s.get() for s in subs] == [None, None]
    assert await hub.subscribe_job(JOB).get() is None
    assert hub.subscriber_count == 0


async def test_the_shared_frame_is_byte_for_byte_what_aiohttp_sse_sends(aiohttp_client):
    """A frame built once for every client equals aiohttp-sse's own framing of the same event."""
    event = JobEvent.from_payload(payload())

    async def handler(request: web.Request) -> web.StreamResponse:
        async with sse_response(request) as resp:
            await resp.send(event.data, id=str(event.seq), event=event.name)
            await resp.write(frame(str(event.seq), event.name, event.data))
        return resp

    app = web.Application()
    app.router.add_get("/", handler)
    client = await aiohttp_client(app)
    async with client.get("/") as resp:
        body = await resp.read()
    assert body == event.job_frame * 2
