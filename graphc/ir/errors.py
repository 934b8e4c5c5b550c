"""The IR's errors: all ValueErrors, so callers that only care "bad input" can catch one type."""


class GraphError(ValueError):
    """The graph breaks an IR invariant (raised by `Graph.verify`); the message names the node."""


class ParseError(ValueError):
    """The text is not a graph in graphc's text form; the message gives the line."""


class GraphFileError(ValueError):
    """A graph file is unreadable, of an unknown version, truncated or tampered with."""
