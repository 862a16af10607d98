"""`db info|upgrade|check`: the database, where it is, its schema and its consistency."""

from __future__ import annotations

import argparse
from typing import Any

import cmd2
from rich.text import Text

from bt import inspect_database, upgrade_database
from shell import render
from shell.commands.args import add_json, new_parser
from shell.commands.base import ShellCommands
from shell.core import CommandError

db_parser = new_parser("The database: where it is, its schema version, upgrades.")
db_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
db_info_parser = new_parser("Show the database URL (password masked), schema version and counts.")
add_json(db_info_parser)
db_upgrade_parser = new_parser("Migrate the database schema to this brownthrower's version.")
db_check_parser = new_parser(
    "Look through the whole database for what should never be: dependency cycles, counters that "
    "disagree with the rows, RUNNING jobs without a live runner lease, and QUEUED jobs whose "
    "parents can never finish on their own (STASHED or FAILED parents). Fails when it finds any."
)
add_json(db_check_parser)


class DbCommands(ShellCommands):
    """The `db` command."""

    DEFAULT_CATEGORY = "Database"

    def _url(self) -> str:
        """The open client's database URL, else the configured one (for a schema the client
        refuses to open)."""
        if self._cmd.has_client:
            return self.bt.url
        if self._cmd.settings is None:
            raise CommandError("No database is configured.")
        return self._cmd.settings.database_url

    def _pooled(self) -> bool:
        return self._cmd.settings is not None and self._cmd.settings.pooled

    @cmd2.with_argparser(db_parser)
    def do_db(self, args: argparse.Namespace) -> None:
        """The database: where it is, its schema version, upgrades."""
        args.cmd2_subcommand_func(args)

    @cmd2.as_subcommand_to("db", "info", db_info_parser, help="URL, schema version, counts")
    def db_info(self, args: argparse.Namespace) -> None:
        database = inspect_database(self._url(), pooled=self._pooled())
        info: dict[str, Any] = {
            "url": database.url,
            "source": self._cmd.settings.source if self._cmd.settings else "given",
            "dialect": database.dialect,
            "schema": database.schema,
            "schema_head": database.schema_head,
            "counts": self.bt.jobs.counts() if database.current else None,
        }
        self.result(info)
        if args.json:
            self.text(render.as_json(info))
            return
        for name in ("url", "source", "dialect", "schema"):
            self.show(Text(f"{name.ljust(8)} : {info[name]}"))
        if not database.current:
            self._cmd.warn(f"The schema is not at {database.schema_head}: run `db upgrade`.")
        else:
            self.show(render.counts_table(info["counts"]))

    @cmd2.as_subcommand_to("db", "upgrade", db_upgrade_parser, help="migrate the schema")
    def db_upgrade(self, _args: argparse.Namespace) -> None:
        before, head = upgrade_database(self._url(), pooled=self._pooled())
        if before == head:
            self._cmd.ok(f"The schema is already at the current version ({head}).")
        else:
            self._cmd.ok(f"The schema has been upgraded from {before or 'nothing'} to {head}.")
        self.result(head)

    @cmd2.as_subcommand_to("db", "check", db_check_parser, help="look for inconsistencies")
    def db_check(self, args: argparse.Namespace) -> None:
        findings = self.bt.jobs.check()
        self.result(findings)
        if args.json:
            self.text(render.as_json([finding.as_dict() for finding in findings]))
        elif not findings:
            self._cmd.ok("No problems found.")
        for finding in findings:
            self._cmd.fail(f"{finding.kind}: {finding.detail}")
