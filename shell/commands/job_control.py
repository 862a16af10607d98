"""`job submit|reset|abort|remove|link|unlink`: status operations and dependencies.

The status operations take ids, ranges and `job list` filter terms (`job submit 10-20 25`,
`job submit status=FAILED name=sim_*`), report every outcome (only refusals above a hundred
jobs) and end with a summary; removing or aborting more than ten jobs asks first at a terminal
(`--yes` does not). The rules themselves (which status allows what) are the core's.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence

import cmd2

from bt.status import Status
from shell import ids
from shell.commands.args import add_job_ids, new_parser
from shell.commands.base import ShellCommands
from shell.complete import ID_COLUMNS, Completers


def _add_yes(parser: cmd2.Cmd2ArgumentParser) -> None:
    parser.add_argument(
        "--yes", "-y", action="store_true", help="do not ask before acting on many jobs"
    )


submit_parser = new_parser(
    "Queue STASHED or FAILED jobs for execution; a superjob resubmits its unfinished subjobs."
)
add_job_ids(submit_parser, "jobs to submit")
reset_parser = new_parser("Return QUEUED or FAILED jobs to the stash, where they can be edited.")
add_job_ids(reset_parser, "jobs to reset")
abort_parser = new_parser(
    "Abort QUEUED or RUNNING jobs (a running job's process is killed); a superjob aborts its "
    "active subjobs. With --downstream, also every job that depends on it, directly or not, "
    "all in one transaction: they all fail, or (on any error) none does."
)
add_job_ids(abort_parser, "jobs to abort")
abort_parser.add_argument(
    "--downstream",
    action="store_true",
    help="also abort every job that depends on these, directly or not",
)
_add_yes(abort_parser)
remove_parser = new_parser(
    "Delete unlinked top-level STASHED or FAILED jobs, with all their subjobs."
)
add_job_ids(remove_parser, "jobs to remove")
_add_yes(remove_parser)


def _link_parser(description: str) -> cmd2.Cmd2ArgumentParser:
    parser = new_parser(description)
    for name in ("parent", "child"):
        parser.add_argument(
            name,
            type=ids.job_id,
            metavar=name.upper(),
            help=f"the {name} job",
            choices_provider=Completers.job_id_choices,
            table_columns=ID_COLUMNS,
        )
    return parser


def _downstream_summary(root: int, aborted: Sequence[int]) -> str:
    """The last line of `job abort --downstream` for one job, given the jobs it aborted."""
    dependents = sum(job_id != root for job_id in aborted)
    them = "job" if dependents == 1 else "jobs"
    if root in aborted and dependents:
        return (
            f"{dependents + 1} jobs have been aborted: job {root} and {dependents} {them} below it."
        )
    if root in aborted:
        return f"1 job has been aborted: job {root}; no active job depends on it."
    already = f"job {root} had FAILED already"
    if dependents:
        have = "has" if dependents == 1 else "have"
        return f"{dependents} {them} below job {root} {have} been aborted ({already})."
    return f"No job has been aborted: {already}, and no active job depends on it."


def _blocked_note(blocked: Sequence[int]) -> str:
    """The warning after submitting jobs that cannot run: a parent FAILED (or is blocked)."""
    them = f"Job {blocked[0]} is" if len(blocked) == 1 else f"Jobs {ids.ranges(blocked)} are"
    return (
        f"{them} BLOCKED: a parent has FAILED or is blocked, so nothing runs until it is "
        f"resubmitted (job graph {blocked[0]} shows it)."
    )


link_parser = _link_parser("Make CHILD wait until PARENT is DONE (both top-level or siblings).")
unlink_parser = _link_parser("Remove the dependency of CHILD on PARENT.")


class JobControlCommands(ShellCommands):
    """Subcommands of `job` that change status and dependencies."""

    @cmd2.as_subcommand_to("job", "submit", submit_parser, help="queue jobs for execution")
    def job_submit(self, args: argparse.Namespace) -> None:
        blocked: list[int] = []

        def submit(job_id: int) -> str:
            status = self.bt.jobs.submit(job_id)
            if status is Status.QUEUED and self.bt.jobs.info(job_id).blocked:
                blocked.append(job_id)
            return f"Job {job_id} has been submitted ({status.value})."

        self.for_each(self.selected(args.ids), submit, "submitted")
        if blocked:
            self._cmd.warn(_blocked_note(blocked))

    @cmd2.as_subcommand_to("job", "reset", reset_parser, help="return jobs to the stash")
    def job_reset(self, args: argparse.Namespace) -> None:
        def reset(job_id: int) -> str:
            self.bt.jobs.reset(job_id)
            return f"Job {job_id} has been returned to the stash."

        self.for_each(self.selected(args.ids), reset, "reset")

    @cmd2.as_subcommand_to("job", "abort", abort_parser, help="abort queued or running jobs")
    def job_abort(self, args: argparse.Namespace) -> None:
        chosen = self.selected(args.ids)
        if not self.confirmed("abort", "aborted", len(chosen), yes=args.yes):
            return
        if args.downstream:
            self._abort_downstream(chosen)
            return

        def abort(job_id: int) -> str:
            status = self.bt.jobs.abort(job_id)
            return f"Job {job_id} has been aborted ({status.value})."

        self.for_each(chosen, abort, "aborted")

    def _abort_downstream(self, roots: Iterable[int]) -> None:
        """Each root with its dependents, one transaction per root: a line per aborted job, a
        summary line. A root already aborted as another's dependent is not aborted twice."""
        aborted: list[int] = []

        def abort(root: int) -> str:
            outcomes = self.bt.jobs.abort_downstream(root)
            for job_id, status in outcomes:
                below = f", downstream of job {root}" if job_id != root else ""
                self._cmd.ok(f"Job {job_id} has been aborted ({status.value}){below}.")
            ids = [job_id for job_id, _ in outcomes]
            aborted.extend(ids)
            return _downstream_summary(root, ids)

        for root in roots:
            if root not in aborted:
                self.for_each([root], abort)
        self.result(aborted)

    @cmd2.as_subcommand_to("job", "remove", remove_parser, help="delete jobs")
    def job_remove(self, args: argparse.Namespace) -> None:
        chosen = self.selected(args.ids)
        if not self.confirmed("remove", "removed", len(chosen), yes=args.yes):
            return

        def remove(job_id: int) -> str:
            count = self.bt.jobs.remove(job_id)
            extra = f" with its {count - 1} subjobs" if count > 1 else ""
            return f"Job {job_id} has been removed{extra}."

        self.for_each(chosen, remove, "removed")

    @cmd2.as_subcommand_to("job", "link", link_parser, help="add a parent-child dependency")
    def job_link(self, args: argparse.Namespace) -> None:
        self.bt.jobs.link(args.parent, args.child)
        self._cmd.ok(f"Job {args.child} now depends on job {args.parent}.")
        self.result([args.parent, args.child])

    @cmd2.as_subcommand_to("job", "unlink", unlink_parser, help="remove a dependency")
    def job_unlink(self, args: argparse.Namespace) -> None:
        self.bt.jobs.unlink(args.parent, args.child)
        self._cmd.ok(f"Job {args.child} no longer depends on job {args.parent}.")
        self.result([args.parent, args.child])
