"""The one exception type for bad input (``docs/architecture.md``, "Errors").

Every check of user input raises ``InputError`` (or ``InputTypeError`` for a wrong type) naming the argument;
the command line maps it to one line and exit status 2 without reading its text. Any other exception is a bug
and keeps its traceback. Both subclass the built-in ValueError / TypeError, so ``except ValueError`` still
catches bad input in user code.
"""
from __future__ import annotations


class InputError(ValueError):
    """Bad input: ``argument`` names what was given (``n``, ``dist``, ``--samples``), ``message`` what is allowed."""

    def __init__(self, argument: str, message: str):
        self.argument = argument
        self.message = message
        super().__init__(f"{argument}: {message}")

    def renamed(self, argument: str) -> "InputError":
        """The same error for another name of the argument (an API name shown as its command-line flag)."""
        return type(self)(argument, self.message)

    def __reduce__(self):  # picklable (Dask ships errors between processes)
        return type(self), (self.argument, self.message)


class InputTypeError(InputError, TypeError):
    """Bad input of the wrong type (a float seed, a string where a number is needed)."""
