"""The language server (`dp-lint server`): `check`'s findings and `fix`'s fixes in an editor.

A stage of its own beside `cli` and `verify`: it builds on `lint` and `report` and is
started by the `server` subcommand. It needs the optional `server` extra (pygls, lsprotocol);
`dp_lint.server.documents` holds what does not depend on the protocol.
"""
