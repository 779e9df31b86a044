"""Errors a user can act on: the one error policy of every wing of patchvid.

Every problem with the user's input or request is raised as a :class:`PatchvidError` whose message
is one line that names the problem; the command line prints it and exits non-zero, with no traceback.
Anything else escaping the library is a bug.
"""


class PatchvidError(Exception):
    """A problem with the input or the request, described in one line for the user."""


class InputError(PatchvidError, ValueError):
    """Arrays or settings a function cannot work on: a wrong shape, type or range. Also a
    ``ValueError``, so that code catching that (NumPy's convention) keeps working."""


class MediaError(PatchvidError):
    """A file or folder could not be read or written as media."""


class ResourceError(PatchvidError):
    """A request that would not fit in this machine's memory."""
