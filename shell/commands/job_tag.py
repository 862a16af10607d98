"""`job tag ID NAME=VALUE...` and `job untag ID NAME...`: a user's own tags on a job.

Names starting `bt_` are the system's (tracebacks, captured output) and are refused by the
core. Every name and value is checked before the first is written, so a bad one changes
nothing; a value may be `@FILE`. `job tags ID` shows them.
"""

from __future__ import annotations

import argparse
import unicodedata

import cmd2

from bt import errors, tagnames
from shell.commands.args import add_job_id, new_parser, text_or_file
from shell.commands.base import ShellCommands
from shell.core import did_you_mean


def assignment(text: str) -> tuple[str, str]:
    """An argparse `type`: `NAME=VALUE` (VALUE may be `@FILE`) as a checked pair."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    tagnames.check_name(name)
    value = text_or_file(value)
    for index, char in enumerate(value):
        if unicodedata.category(char) == "Cc" and char not in "\n\t":
            raise errors.InvalidValue(
                f"The value of tag {name!r} contains the control character U+{ord(char):04X} "
                f"at character {index + 1:,}; only newline and tab are allowed."
            )
    return name, value


tag_parser = new_parser("Set user tags on a job: NAME=VALUE (or NAME=@file); see `job tags ID`.")
add_job_id(tag_parser)
tag_parser.add_argument(
    "tags", nargs="+", type=assignment, metavar="NAME=VALUE", help="tags to set"
)
untag_parser = new_parser("Remove user tags from a job.")
add_job_id(untag_parser)
untag_parser.add_argument("names", nargs="+", metavar="NAME", help="tags to remove")


class JobTagCommands(ShellCommands):
    """`job tag` and `job untag`."""

    @cmd2.as_subcommand_to("job", "tag", tag_parser, help="set user tags on a job")
    def job_tag(self, args: argparse.Namespace) -> None:
        tags = dict(args.tags)
        self.bt.jobs.info(args.job_id)  # JobNotFound before anything is written
        for name, value in tags.items():
            self.bt.tags.set(args.job_id, name, value)
        them = "tag" if len(tags) == 1 else "tags"
        self._cmd.ok(f"Job {args.job_id} has {them} {', '.join(tags)} set.")
        self.result(tags)

    @cmd2.as_subcommand_to("job", "untag", untag_parser, help="remove user tags from a job")
    def job_untag(self, args: argparse.Namespace) -> None:
        names = list(dict.fromkeys(args.names))
        for name in names:
            tagnames.check_name(name)
        present = {tag.name for tag in self.bt.tags.list(args.job_id)}
        for name in names:
            if name not in present:
                hint = did_you_mean(name, present)
                raise errors.NotFound(f"Job {args.job_id} has no tag named {name!r}.{hint}")
        for name in names:
            self.bt.tags.delete(args.job_id, name)
        them = "tag" if len(names) == 1 else "tags"
        self._cmd.ok(f"Job {args.job_id} no longer has {them} {', '.join(names)}.")
        self.result(names)
