"""Webhooks: a workflow started by a signed HTTP POST to `/hooks/<name>`."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from stackflow.definitions.workflows import Workflow
from stackflow.errors import DefinitionError

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
VARIABLE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SIGNATURE_HEADER = "X-Stackflow-Signature"
SIGNATURE_PREFIX = "sha256="

WebhookArgs = Callable[[Any, Mapping[str, str]], Any] | None


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of body keyed with secret>`, the signature header's value."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


class Webhook:
    """A workflow started by `POST /hooks/<name>` with a body signed by a shared secret.

    The secret is read from the environment variable `secret_env` when a request
    arrives, so it never sits in the project's files.
    """

    def __init__(
        self,
        name: str,
        workflow: Workflow,
        *,
        secret_env: str,
        machine_user: str | None = None,
        args: WebhookArgs = None,
        defined_at: tuple[str, int] | None = None,
    ) -> None:
        self.name = _check_name(name)
        self.workflow = _check_workflow(name, workflow)
        self.secret_env = _check_variable(name, secret_env)
        self.machine_user = _check_machine_user(name, machine_user)
        if args is not None and not callable(args):
            raise DefinitionError(
                f"webhook {name!r}: args must be None (the JSON body is the argument) or a "
                f"function of (body, headers), got {args!r}"
            )
        self.args = args
        self.defined_at = defined_at

    @property
    def path(self) -> str:
        """The URL path that starts it, under the app's root: `/hooks/<name>`."""
        return f"/hooks/{self.name}"

    def secret(self) -> str | None:
        """The shared secret from the environment, or None when the variable is unset or empty."""
        return os.environ.get(self.secret_env) or None

    def verify(self, body: bytes, signature: str | None) -> bool:
        """Whether `signature` is `sha256=<hex HMAC of body>` with the secret (constant time)."""
        secret = self.secret()
        if secret is None or not signature:
            return False
        return hmac.compare_digest(sign(secret, body), signature.strip())

    def arg_for(self, body: Any, headers: Mapping[str, str]) -> Any:
        """The workflow's argument: the JSON body, or what the args function makes of it."""
        return body if self.args is None else self.args(body, headers)

    def __repr__(self) -> str:
        return f"<Webhook {self.name!r} -> {self.workflow.name!r}>"


def webhook_json(webhook: Webhook) -> dict[str, Any]:
    """A webhook as `check -j` and the API list it: `{name, path, workflow, machineUser, ...}`."""
    return {
        "name": webhook.name,
        "path": webhook.path,
        "workflow": webhook.workflow.name,
        "machineUser": webhook.machine_user,
        "secretEnv": webhook.secret_env,
        "secretSet": webhook.secret() is not None,
    }


def create_webhook(
    name: str,
    workflow: Workflow,
    *,
    secret_env: str,
    machine_user: str | None = None,
    args: WebhookArgs = None,
) -> Webhook:
    """Define a webhook at module level in a workflow file: `POST /hooks/<name>` starts it.

    Args:
        name: 1-63 lowercase letters, digits, `-` and `_`; the URL is `/hooks/<name>`.
        workflow: the workflow each accepted request starts.
        secret_env: the environment variable holding the shared HMAC-SHA256 secret.
        machine_user: the machine user the executions run as (from `[machine_users]`).
        args: None to pass the JSON body as the argument, or a function of
            `(body, headers)` returning it.
    """
    caller = sys._getframe(1)
    return Webhook(
        name,
        workflow,
        secret_env=secret_env,
        machine_user=machine_user,
        args=args,
        defined_at=(caller.f_code.co_filename, caller.f_lineno),
    )


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DefinitionError(
            f"webhook name {name!r} is invalid: use 1-63 lowercase letters, digits, '-' and "
            "'_', starting with a letter or digit (it is the URL path /hooks/<name>)"
        )
    return name


def _check_workflow(name: str, workflow: object) -> Workflow:
    if not isinstance(workflow, Workflow):
        raise DefinitionError(
            f"webhook {name!r}: workflow must be a Workflow made by create_workflow, "
            f"got {workflow!r}"
        )
    return workflow


def _check_variable(name: str, secret_env: object) -> str:
    if not isinstance(secret_env, str) or not VARIABLE_PATTERN.match(secret_env):
        raise DefinitionError(
            f"webhook {name!r}: secret_env must name an environment variable "
            f"(like 'ORDER_HOOK_SECRET'), got {secret_env!r}"
        )
    return secret_env


def _check_machine_user(name: str, machine_user: object) -> str | None:
    if machine_user is not None and (not isinstance(machine_user, str) or not machine_user):
        raise DefinitionError(
            f"webhook {name!r}: machine_user must be the name of a machine user, "
            f"got {machine_user!r}"
        )
    return machine_user
