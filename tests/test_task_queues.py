"""Which queue each task goes to: outgoing webhook POSTs never share the charges' workers."""

import re

import pytest
import yaml
from django.conf import settings

from gamarriando.celery import app
from tests.processes import WORKER_QUEUES


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("notifications.deliver_webhook", "webhooks"),
        ("notifications.retry_due_deliveries", "webhooks"),
        ("notifications.send_customer_emails", "events"),
        ("payments.execute_transaction", "payments"),
        ("gamarriando.dispatch_pending", "events"),
    ],
)
def test_tasks_go_to_their_queue(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_every_queue_has_a_worker_in_compose_make_and_the_tests():
    queues = {queue.name for queue in app.conf.task_queues}
    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())
    served = set()
    for service in compose["services"].values():
        command = service.get("command", "")
        if " worker " in f" {command} ":
            served |= set(re.search(r"-Q (\S+)", command).group(1).split(","))
    assert served == queues
    assert compose["services"]["webhook-worker"]["command"].split("-Q ")[1].startswith("webhooks ")
    make = (settings.BASE_DIR / "Makefile").read_text()
    assert set(re.search(r"worker -Q (\S+)", make).group(1).split(",")) == queues
    assert set(WORKER_QUEUES.split(",")) == queues
