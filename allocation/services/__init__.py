"""The only code that changes allocation state: waitlists, rounds (announce, draw, choosing,
close) and offers. Each action is one transaction with its archive event and, where the public
must learn of it, an outbox row."""


class AllocationError(Exception):
    """The action cannot be done now; the message says why, in Chinese."""
