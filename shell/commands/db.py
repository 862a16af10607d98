"""`db info|upgrade`: the database, where it is and its schema."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cmd2
from rich.text import Text

from bt import schema
from bt.db import Database
from shell import render
from shell.commands.args import add_json, new_parser
from shell.commands.base import ShellCommands
from shell.core import CommandError

db_parser = new_parser("The database: where it is, its schema version, upgrades.")
db_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
db_info_parser = new_parser("Show the database URL (password masked), schema version and counts.")
add_json(db_info_parser)
db_upgrade_parser = new_parser("Migrate the database schema to this brownthrower's version.")


class DbCommands(ShellCommands):
    """The `db` command."""

    DEFAULT_CATEGORY = "Database"

    @contextmanager
    def _database(self) -> Iterator[Database]:
        """The open client's database, or a short-lived one (for a schema the client refuses)."""
        if self._cmd.has_client:
            yield self.bt.db
            return
        if self._cmd.settings is None:
            raise CommandError("No database is configured.")
        db = Database(self._cmd.settings.database_url)
        try:
            yield db
        finally:
            db.dispose()

    @cmd2.with_argparser(db_parser)
    def do_db(self, args: argparse.Namespace) -> None:
        """The database: where it is, its schema version, upgrades."""
        args.cmd2_subcommand_func(args)

    @cmd2.as_subcommand_to("db", "info", db_info_parser, help="URL, schema version, counts")
    def db_info(self, args: argparse.Namespace) -> None:
        with self._database() as db:
            current, head = schema.current_revision(db), schema.head_revision()
            info: dict[str, Any] = {
                "url": db.masked_url,
                "source": self._cmd.settings.source if self._cmd.settings else "given",
                "dialect": db.dialect,
                "schema": current,
                "schema_head": head,
                "counts": self.bt.jobs.counts() if current == head else None,
            }
        self.result(info)
        if args.json:
            self.text(render.as_json(info))
            return
        for name in ("url", "source", "dialect", "schema"):
            self.show(Text(f"{name.ljust(8)} : {info[name]}"))
        if current != head:
            self._cmd.warn(f"The schema is not at {head}: run `db upgrade`.")
        else:
            self.show(render.counts_table(info["counts"]))

    @cmd2.as_subcommand_to("db", "upgrade", db_upgrade_parser, help="migrate the schema")
    def db_upgrade(self, _args: argparse.Namespace) -> None:
        with self._database() as db:
            before = schema.current_revision(db)
            head = schema.head_revision()
            if before == head:
                self._cmd.ok(f"The schema is already at the current version ({head}).")
            else:
                schema.upgrade(db)
                self._cmd.ok(f"The schema has been upgraded from {before or 'nothing'} to {head}.")
        self.result(head)
