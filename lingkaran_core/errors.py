"""Domain errors raised by ``lingkaran_core``.

Every error carries a dotted ``code`` (a message key that handlers translate) and ``params``
(values for the translated placeholders); the core never builds user-facing text.

The tree::

    DomainError
    ├── InvalidNIK            nik.empty, nik.not_digits, nik.wrong_length, nik.bad_month,
    │                         nik.bad_day, nik.impossible_date, nik.serial_zero, nik.bad_region
    ├── InvalidKPJ            kpj.empty, kpj.not_digits, kpj.wrong_length
    ├── InvalidPhone          phone.invalid, phone.not_mobile
    ├── InvalidDate           date.unreadable, date.impossible, date.in_future, date.too_old
    ├── NotFound              e.g. worker.not_found, claim.not_found
    ├── IllegalTransition     claim.illegal_transition, claim.reason_required, claim.final_state
    ├── NotAuthorised         e.g. facilitator.out_of_scope
    ├── NotEligible           jkm.not_active_on_death, beasiswa.membership_too_short, ...
    ├── Conflict              e.g. worker.duplicate_nik
    └── RateLimited           e.g. bind_code.too_many_attempts

Adapters catch ``DomainError`` and reply with the translated ``code``.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of all domain errors: a dotted message code plus its parameters."""

    code: str
    params: dict[str, object]

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = dict(params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, **{self.params!r})"

    def __str__(self) -> str:
        if not self.params:
            return self.code
        args = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.code} ({args})"


class InvalidNIK(DomainError):
    """The text is not a well-formed 16-digit NIK."""


class InvalidKPJ(DomainError):
    """The text is not a well-formed 11-digit KPJ number."""


class InvalidPhone(DomainError):
    """The text is not a usable Indonesian (mobile) phone number."""


class InvalidDate(DomainError):
    """The text is not a readable or plausible date."""


class NotFound(DomainError):
    """A referenced record (worker, claim, desa...) does not exist."""


class IllegalTransition(DomainError):
    """A state change is not allowed by the state machine."""


class NotAuthorised(DomainError):
    """The actor may not perform this action."""


class NotEligible(DomainError):
    """The person or claim does not meet a programme rule."""


class Conflict(DomainError):
    """The action clashes with existing data (duplicate, concurrent change)."""


class RateLimited(DomainError):
    """Too many attempts; try again later."""
