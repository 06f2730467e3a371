"""``tutor users add|list|remove``: the web app's student accounts (:mod:`agent.app.accounts`).

    tutor users add ada                          # asks for the password twice
    printf '%s\\n' "$PASSWORD" | tutor users add ada --password-stdin
    tutor users list
    tutor users remove ada

Accounts live in the chat database: ``TUTOR_DATA_DIR/chat.sqlite``, or ``TUTOR_DATABASE_URL``.
A running ``tutor chat`` in open mode switches to logins when restarted.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from agent.app.accounts import AccountError, Accounts, check_name, check_password, run_sync


def register(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="student accounts for the web app (add, list, remove)")
    users.add_argument("--data-dir", default=None, help="where the chat database lives (env TUTOR_DATA_DIR)")
    actions = users.add_subparsers(dest="action", metavar="ACTION", parser_class=type(users), required=True)
    add = actions.add_parser("add", help="create an account (asks for its password twice)")
    add.add_argument("name", help="login name: letters, digits and . _ @ - (up to 64)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    actions.add_parser("list", help="print the account names, one a line")
    remove = actions.add_parser("remove", help="delete an account (its chat history stays)")
    remove.add_argument("name")
    users.set_defaults(handler=run_users)


def read_password(from_stdin: bool) -> str:
    """The new password: stdin's first line, or typed twice at a prompt (not echoed)."""
    if from_stdin:
        return check_password(sys.stdin.readline().rstrip("\r\n"))
    first = check_password(getpass.getpass("Password: "))
    if getpass.getpass("Password (again): ") != first:
        raise AccountError("the passwords differ; nothing was changed")
    return first


def run_users(args) -> int:
    from agent.cli import settings_from_args

    accounts = Accounts(settings_from_args(args).chat_database)

    async def act():
        try:
            if args.action == "add":
                await accounts.add(args.name, password)
                return f"added {args.name}"
            if args.action == "remove":
                removed = await accounts.remove(args.name)
                if not removed:
                    raise AccountError(f"no user {args.name!r}")
                return f"removed {args.name}"
            return "\n".join(await accounts.names())
        finally:
            await accounts.close()

    if args.action == "add":
        check_name(args.name)  # before asking for a password
        password = read_password(args.password_stdin)
    text = run_sync(act)
    if text:
        print(text)
    return 0
