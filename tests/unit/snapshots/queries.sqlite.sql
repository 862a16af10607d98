-- ADD_BLOCKING_PARENTS
UPDATE job SET blocking_parents=(job.blocking_parents + ?) WHERE job.id IN (__[POSTCOMPILE_ids]) RETURNING id, status, blocking_parents;

-- ADD_IN_USE
UPDATE concurrency_limit SET in_use=(concurrency_limit.in_use + ?) WHERE concurrency_limit.name = ?;

-- ADD_PENDING_PARENTS
UPDATE job SET pending_parents=(job.pending_parents + ?) WHERE job.id IN (__[POSTCOMPILE_ids]) RETURNING status, pending_parents;

-- ADJUST_SUPERJOB
UPDATE job SET sub_total=(job.sub_total + ?), sub_done=(job.sub_done + ?), sub_failed=(job.sub_failed + ?) WHERE job.id = ? RETURNING status, super_id, sub_total, sub_done, sub_failed;

-- ANY_LIMIT
SELECT EXISTS (SELECT * 
FROM concurrency_limit) AS anon_1;

-- ATTEMPT_BUDGET
SELECT job.attempts, job.max_attempts 
FROM job 
WHERE job.id = ?;

-- CLAIMED_ROW
SELECT job.id, job.name, job.super_id, job.priority, job.attempts, job.sub_total, job.time_limit, job.config, job.input, EXISTS (SELECT * 
FROM dependency 
WHERE dependency.child_id = job.id) AS has_parents 
FROM job 
WHERE job.id = ?;

-- DELETE_LOST_RUNNERS
DELETE FROM runner WHERE runner.id IN (SELECT runner.id 
FROM runner 
WHERE runner.expires_at < (strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'));

-- DELETE_TAGS
DELETE FROM tag WHERE tag.job_id = ? AND tag.name IN (__[POSTCOMPILE_names]);

-- FAILED_SUBJOBS
SELECT job.id 
FROM job 
WHERE job.super_id = ? AND job.status = ? ORDER BY job.id
 LIMIT ? OFFSET ?;

-- HELD_TOKEN
SELECT job.token 
FROM job 
WHERE job.id = ?;

-- HELD_TOKENS
SELECT job.id, job.token 
FROM job 
WHERE job.id IN (__[POSTCOMPILE_ids]);

-- JOB_LIMITS_OF
SELECT job_limit.job_id, job_limit.name, job_limit.units 
FROM job_limit 
WHERE job_limit.job_id IN (__[POSTCOMPILE_ids]);

-- LOCK_LIMITS
SELECT concurrency_limit.name, concurrency_limit.capacity, concurrency_limit.in_use 
FROM concurrency_limit 
WHERE concurrency_limit.name IN (__[POSTCOMPILE_names]) ORDER BY concurrency_limit.name;

-- LOCK_NEEDS
SELECT job_limit.job_id, job_limit.name, job_limit.units, concurrency_limit.capacity, concurrency_limit.in_use 
FROM job_limit JOIN concurrency_limit ON concurrency_limit.name = job_limit.name 
WHERE job_limit.job_id IN (__[POSTCOMPILE_ids]) ORDER BY concurrency_limit.name;

-- LOCK_SCOPE
SELECT pg_advisory_xact_lock(?, ?) AS pg_advisory_xact_lock_1;

-- LOST_RUNNERS
SELECT runner.id 
FROM runner 
WHERE runner.expires_at < (strftime('%Y-%m-%d %H:%M:%f', 'now') || '000');

-- MARK_CLAIMED
UPDATE runner SET claimed=1 WHERE runner.id = ? AND runner.claimed = 0;

-- NEXT_RETRY
SELECT job.not_before 
FROM job 
WHERE job.not_before IS NOT NULL AND job.name IN (__[POSTCOMPILE_tasks]) ORDER BY job.not_before
 LIMIT ? OFFSET ?;

-- NOW
SELECT (strftime('%Y-%m-%d %H:%M:%f', 'now') || '000') AS db_now_1;

-- ORPHANED_JOBS
SELECT job.id, job.super_id, job.token, job.runner_id, job.attempts, job.max_attempts 
FROM job 
WHERE status = 'RUNNING' AND (job.runner_id IN (SELECT runner.id 
FROM runner 
WHERE runner.expires_at < (strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')) OR job.runner_id IS NULL);

-- PARENT_OUTPUTS
SELECT job.id, job.name, job.output 
FROM job JOIN dependency ON dependency.parent_id = job.id 
WHERE dependency.child_id = ? ORDER BY job.id;

-- PENDING_PARENTS
SELECT job.pending_parents 
FROM job 
WHERE job.id = ?;

-- RECORD_EVENT
INSERT INTO job_event (job_id, old_status, new_status, attempt, runner_id, host, exit_code, reason, traceback, stderr) VALUES (?, ?, ?, ?, ?, (SELECT runner.host 
FROM runner 
WHERE runner.id = ?), ?, ?, ?, ?);

-- RECORD_RUN
INSERT INTO job_attempt (job_id, seq, attempt, after_event, outcome, runner_id, host, queued_at, started_at, ended_at, exit_code, reason, traceback, stderr, realtime, cpu_user, cpu_sys, peak_rss, minflt, majflt, vol_ctxt, inv_ctxt, inblock, oublock, rchar, wchar, read_bytes, write_bytes, batch_id, slots) VALUES (?, (SELECT coalesce(max(job_attempt.seq), ?) + ? AS anon_1 
FROM job_attempt 
WHERE job_attempt.job_id = ?), ?, (SELECT max(job_event.id) AS max_1 
FROM job_event 
WHERE job_event.job_id = ?), ?, ?, (SELECT runner.host 
FROM runner 
WHERE runner.id = ?), max(coalesce((SELECT max(job_event.at) AS max_2 
FROM job_event 
WHERE job_event.job_id = ? AND job_event.new_status = ?), (SELECT max(job_attempt.ended_at) AS max_3 
FROM job_attempt 
WHERE job_attempt.job_id = ? AND job_attempt.outcome = ? AND coalesce(job_attempt.reason, ?) != ?)), coalesce((SELECT max(job_attempt.ended_at) AS max_3 
FROM job_attempt 
WHERE job_attempt.job_id = ? AND job_attempt.outcome = ? AND coalesce(job_attempt.reason, ?) != ?), (SELECT max(job_event.at) AS max_2 
FROM job_event 
WHERE job_event.job_id = ? AND job_event.new_status = ?))), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq;

-- RELEASE_CHILDREN
UPDATE job SET pending_parents=(job.pending_parents - ?) WHERE job.id IN (SELECT dependency.child_id 
FROM dependency 
WHERE dependency.parent_id = ?) RETURNING status, pending_parents;

-- RELEASE_DUE_RETRIES
UPDATE job SET not_before=? WHERE job.id IN (SELECT job.id 
FROM job 
WHERE job.not_before IS NOT NULL AND job.not_before <= (strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')
 LIMIT ? OFFSET ?) RETURNING status, pending_parents;

-- RELEASE_LIMITS
UPDATE concurrency_limit SET in_use=(concurrency_limit.in_use - (SELECT job_limit.units 
FROM job_limit 
WHERE job_limit.job_id = ? AND job_limit.name = concurrency_limit.name)) WHERE concurrency_limit.name IN (SELECT job_limit.name 
FROM job_limit 
WHERE job_limit.job_id = ?);

-- RETRY_POLICY
SELECT job.retries, job.retried, job.retry_delay, job.retry_backoff 
FROM job 
WHERE job.id = ?;

-- RUNNER_COUNTER
INSERT INTO id_counter (name, value) SELECT 'runner', 0 
WHERE NOT (EXISTS (SELECT * 
FROM id_counter 
WHERE id_counter.name = ?));

-- RUN_START
SELECT job.id, job.attempts, job.ts_started, job.runner_id, (strftime('%Y-%m-%d %H:%M:%f', 'now') || '000') AS now 
FROM job 
WHERE job.id = ?;

-- SCOPE_OF
SELECT job.scope 
FROM job 
WHERE job.id = ?;

-- SHIFT_BLOCKING
UPDATE job SET blocking_parents=(job.blocking_parents + ?) WHERE job.id IN (SELECT dependency.child_id 
FROM dependency 
WHERE dependency.parent_id = ?) RETURNING id, status, blocking_parents;

-- SUBJOB_OUTPUTS
SELECT job.id, job.name, job.output 
FROM job 
WHERE job.super_id = ? ORDER BY job.id;

-- TAKE_JOB_IDS
UPDATE id_counter SET value=(max(id_counter.value, (SELECT coalesce(max(job.id), ?) AS coalesce_1 
FROM job)) + ?) WHERE id_counter.name = ? RETURNING value;

-- TAKE_RUNNER_ID
UPDATE id_counter SET value=(max(id_counter.value, (SELECT coalesce(max(runner.id), ?) AS coalesce_1 
FROM runner)) + ?) WHERE id_counter.name = ? RETURNING value;

-- claim_ids
UPDATE job SET status=?, output=?, ts_started=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), ts_ended=?, token=?, runner_id=?, attempts=(job.attempts + CASE WHEN (job.sub_total = ?) THEN ? ELSE ? END) WHERE job.id IN (__[POSTCOMPILE_ids]) AND job.status = ? RETURNING id, name, super_id, priority, attempts, sub_total, time_limit, config, input, EXISTS (SELECT * 
FROM dependency 
WHERE child_id = id) AS has_parents;

-- claim_next
UPDATE job SET status=?, output=?, ts_started=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), ts_ended=?, token=?, runner_id=?, attempts=(job.attempts + CASE WHEN (job.sub_total = ?) THEN ? ELSE ? END) WHERE job.id IN (SELECT id 
FROM job INDEXED BY ix_job_runnable 
WHERE status = 'QUEUED' AND pending_parents = 0 AND not_before IS NULL AND has_limits = 0 AND name IN (__[POSTCOMPILE_tasks]) ORDER BY priority DESC, id
 LIMIT ? OFFSET ?) AND job.status = ? RETURNING id, name, super_id, priority, attempts, sub_total, time_limit, config, input, EXISTS (SELECT * 
FROM dependency 
WHERE child_id = id) AS has_parents;

-- heartbeat(30)
UPDATE runner SET heartbeat_at=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), expires_at=(strftime('%Y-%m-%d %H:%M:%f', 'now', '+30.000000 seconds') || '000') WHERE runner.id = ? RETURNING stop_requested;

-- limited_candidates
SELECT id, (SELECT count(*) FROM job_limit WHERE job_limit.job_id = job.id) AS needs 
FROM job INDEXED BY ix_job_runnable 
WHERE status = 'QUEUED' AND pending_parents = 0 AND not_before IS NULL AND has_limits = 1 AND name IN (__[POSTCOMPILE_tasks]) AND NOT (has_limits AND (SELECT count(*) FROM job_limit jl LEFT JOIN concurrency_limit cl ON cl.name = jl.name WHERE jl.job_id = job.id AND (cl.name IS NULL OR cl.in_use + jl.units > cl.capacity)) > 0) ORDER BY priority DESC, id
 LIMIT ? OFFSET ?;

-- tag_upsert
INSERT INTO tag (job_id, name, value) VALUES (?, ?, ?) ON CONFLICT (job_id, name) DO UPDATE SET value = excluded.value;

-- transition(ABORT, fenced)
UPDATE job SET status=?, ts_ended=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), token=?, runner_id=?, not_before=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(CLAIM, fenced)
UPDATE job SET status=?, output=?, ts_started=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), ts_ended=?, attempts=(job.attempts + CASE WHEN (job.sub_total = ?) THEN ? ELSE ? END) WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(EDIT, fenced)
UPDATE job SET status=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(FAIL, fenced)
UPDATE job SET status=?, ts_ended=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), token=?, runner_id=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(FINISH, fenced)
UPDATE job SET status=?, ts_ended=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), token=?, runner_id=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(FINISH, output)
UPDATE job SET status=?, output=?, ts_ended=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), token=?, runner_id=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(LINK, fenced)
UPDATE job SET status=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(REMOVE, fenced)
UPDATE job SET status=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(REQUEUE, fenced)
UPDATE job SET status=?, ts_started=?, token=?, runner_id=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(RESET, fenced)
UPDATE job SET status=?, ts_queued=?, ts_started=?, ts_ended=?, token=?, runner_id=?, not_before=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(RETRY, fenced)
UPDATE job SET status=?, ts_started=?, ts_ended=?, token=?, runner_id=?, attempts=(job.attempts + CASE WHEN (job.sub_total > ?) THEN ? ELSE ? END), retried=(job.retried + ?) WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(SPAWN, fenced)
UPDATE job SET status=?, token=?, runner_id=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(SUBJOBS_ACTIVE, fenced)
UPDATE job SET status=?, ts_ended=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(SUBJOBS_DONE, fenced)
UPDATE job SET status=?, ts_queued=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), ts_ended=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(SUBJOBS_FAILED, fenced)
UPDATE job SET status=?, ts_ended=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000') WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;

-- transition(SUBMIT, fenced)
UPDATE job SET status=?, output=?, ts_queued=(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'), ts_started=?, ts_ended=?, attempts=?, retried=?, not_before=? WHERE job.id = ? AND job.status = ? AND job.token = ? RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE parent_id = id) AS has_children, attempts, blocking_parents, id, has_limits;
