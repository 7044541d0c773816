"""The one error every housing service raises for a refused action, shared by its modules."""


class NotAllowed(Exception):
    """The action cannot be done now; the message says why, in Chinese."""
