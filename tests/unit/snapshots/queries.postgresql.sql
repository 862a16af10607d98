-- ADD_BLOCKING_PARENTS
UPDATE job SET blocking_parents=(job.blocking_parents + %(n)s::INTEGER) WHERE job.id IN (__[POSTCOMPILE_ids]) RETURNING job.id, job.status, job.blocking_parents;

-- ADD_IN_USE
UPDATE concurrency_limit SET in_use=(concurrency_limit.in_use + %(units)s::INTEGER) WHERE concurrency_limit.name = %(limit)s::VARCHAR;

-- ADD_PENDING_PARENTS
UPDATE job SET pending_parents=(job.pending_parents + %(n)s::INTEGER) WHERE job.id IN (__[POSTCOMPILE_ids]) RETURNING job.status, job.pending_parents;

-- ADJUST_SUPERJOB
UPDATE job SET sub_total=(job.sub_total + %(t)s::INTEGER), sub_done=(job.sub_done + %(d)s::INTEGER), sub_failed=(job.sub_failed + %(f)s::INTEGER) WHERE job.id = %(s)s::INTEGER RETURNING job.status, job.super_id, job.sub_total, job.sub_done, job.sub_failed;

-- ANY_LIMIT
SELECT EXISTS (SELECT * 
FROM concurrency_limit) AS anon_1;

-- ATTEMPT_BUDGET
SELECT job.attempts, job.max_attempts 
FROM job 
WHERE job.id = %(job)s::INTEGER;

-- CLAIMED_ROW
SELECT job.id, job.name, job.super_id, job.priority, job.attempts, job.sub_total, job.time_limit, job.config, job.input, EXISTS (SELECT * 
FROM dependency 
WHERE dependency.child_id = job.id) AS has_parents 
FROM job 
WHERE job.id = %(job)s::INTEGER;

-- DELETE_LOST_RUNNERS
DELETE FROM runner WHERE runner.id IN (SELECT runner.id 
FROM runner 
WHERE runner.expires_at < now());

-- DELETE_TAGS
DELETE FROM tag WHERE tag.job_id = %(job)s::INTEGER AND tag.name IN (__[POSTCOMPILE_names]);

-- FAILED_SUBJOBS
SELECT job.id 
FROM job 
WHERE job.super_id = %(super)s::INTEGER AND job.status = %(status_1)s ORDER BY job.id 
 LIMIT %(limit)s;

-- HELD_TOKEN
SELECT job.token 
FROM job 
WHERE job.id = %(job)s::INTEGER FOR UPDATE;

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
WHERE concurrency_limit.name IN (__[POSTCOMPILE_names]) ORDER BY concurrency_limit.name FOR UPDATE;

-- LOCK_NEEDS
SELECT job_limit.job_id, job_limit.name, job_limit.units, concurrency_limit.capacity, concurrency_limit.in_use 
FROM job_limit JOIN concurrency_limit ON concurrency_limit.name = job_limit.name 
WHERE job_limit.job_id IN (__[POSTCOMPILE_ids]) ORDER BY concurrency_limit.name FOR UPDATE OF concurrency_limit;

-- LOCK_SCOPE
SELECT pg_advisory_xact_lock(%(pg_advisory_xact_lock_2)s::INTEGER, %(scope)s) AS pg_advisory_xact_lock_1;

-- LOST_RUNNERS
SELECT runner.id 
FROM runner 
WHERE runner.expires_at < now();

-- MARK_CLAIMED
UPDATE runner SET claimed=true WHERE runner.id = %(runner)s::INTEGER AND runner.claimed = false;

-- NEXT_RETRY
SELECT job.not_before 
FROM job 
WHERE job.not_before IS NOT NULL AND job.name IN (__[POSTCOMPILE_tasks]) ORDER BY job.not_before 
 LIMIT %(param_1)s::INTEGER;

-- NOW
SELECT now() AS db_now_1;

-- ORPHANED_JOBS
SELECT job.id, job.super_id, job.token, job.runner_id, job.attempts, job.max_attempts 
FROM job 
WHERE status = 'RUNNING' AND (job.runner_id IN (SELECT runner.id 
FROM runner 
WHERE runner.expires_at < now()) OR job.runner_id IS NULL) FOR UPDATE SKIP LOCKED;

-- PARENT_OUTPUTS
SELECT job.id, job.name, job.output 
FROM job JOIN dependency ON dependency.parent_id = job.id 
WHERE dependency.child_id = %(child)s::INTEGER ORDER BY job.id;

-- PENDING_PARENTS
SELECT job.pending_parents 
FROM job 
WHERE job.id = %(job)s::INTEGER;

-- RECORD_EVENT
INSERT INTO job_event (job_id, old_status, new_status, attempt, runner_id, host, exit_code, reason, traceback, stderr) VALUES (%(job)s::INTEGER, %(old)s, %(new)s, %(attempt)s::INTEGER, %(runner)s::INTEGER, (SELECT runner.host 
FROM runner 
WHERE runner.id = %(runner)s::INTEGER), %(exit_code)s::INTEGER, %(reason)s::VARCHAR, %(traceback)s::VARCHAR, %(stderr)s::VARCHAR) RETURNING job_event.id;

-- RECORD_RUN
INSERT INTO job_attempt (job_id, seq, attempt, after_event, outcome, runner_id, host, queued_at, started_at, ended_at, exit_code, reason, traceback, stderr, realtime, cpu_user, cpu_sys, peak_rss, minflt, majflt, vol_ctxt, inv_ctxt, inblock, oublock, rchar, wchar, read_bytes, write_bytes, batch_id, slots) VALUES (%(job)s::INTEGER, (SELECT coalesce(max(job_attempt.seq), %(coalesce_1)s::INTEGER) + %(coalesce_2)s::INTEGER AS anon_1 
FROM job_attempt 
WHERE job_attempt.job_id = %(job)s::INTEGER), %(attempt)s::INTEGER, (SELECT max(job_event.id) AS max_1 
FROM job_event 
WHERE job_event.job_id = %(job)s::INTEGER), %(b_new)s, %(runner)s::INTEGER, (SELECT runner.host 
FROM runner 
WHERE runner.id = %(runner)s::INTEGER), max(coalesce((SELECT max(job_event.at) AS max_2 
FROM job_event 
WHERE job_event.job_id = %(job)s::INTEGER AND job_event.new_status = %(new_status_1)s), (SELECT max(job_attempt.ended_at) AS max_3 
FROM job_attempt 
WHERE job_attempt.job_id = %(job)s::INTEGER AND job_attempt.outcome = %(outcome_1)s AND coalesce(job_attempt.reason, %(coalesce_3)s::VARCHAR) != %(coalesce_4)s::VARCHAR)), coalesce((SELECT max(job_attempt.ended_at) AS max_3 
FROM job_attempt 
WHERE job_attempt.job_id = %(job)s::INTEGER AND job_attempt.outcome = %(outcome_1)s AND coalesce(job_attempt.reason, %(coalesce_3)s::VARCHAR) != %(coalesce_4)s::VARCHAR), (SELECT max(job_event.at) AS max_2 
FROM job_event 
WHERE job_event.job_id = %(job)s::INTEGER AND job_event.new_status = %(new_status_1)s))), %(started)s::TIMESTAMP WITH TIME ZONE, %(ended)s::TIMESTAMP WITH TIME ZONE, %(exit_code)s::INTEGER, %(reason)s::VARCHAR, %(traceback)s::VARCHAR, %(stderr)s::VARCHAR, %(realtime)s, %(cpu_user)s, %(cpu_sys)s, %(peak_rss)s::BIGINT, %(minflt)s::BIGINT, %(majflt)s::BIGINT, %(vol_ctxt)s::BIGINT, %(inv_ctxt)s::BIGINT, %(inblock)s::BIGINT, %(oublock)s::BIGINT, %(rchar)s::BIGINT, %(wchar)s::BIGINT, %(read_bytes)s::BIGINT, %(write_bytes)s::BIGINT, %(batch_id)s::VARCHAR, %(slots)s::INTEGER) RETURNING job_attempt.seq;

-- RELEASE_CHILDREN
UPDATE job SET pending_parents=(job.pending_parents - %(pending_parents_1)s::INTEGER) WHERE job.id IN (SELECT dependency.child_id 
FROM dependency 
WHERE dependency.parent_id = %(p)s::INTEGER) RETURNING job.status, job.pending_parents;

-- RELEASE_DUE_RETRIES
UPDATE job SET not_before=%(not_before)s::TIMESTAMP WITH TIME ZONE WHERE job.id IN (SELECT job.id 
FROM job 
WHERE job.not_before IS NOT NULL AND job.not_before <= now() 
 LIMIT %(param_1)s::INTEGER) RETURNING job.status, job.pending_parents;

-- RELEASE_LIMITS
UPDATE concurrency_limit SET in_use=(concurrency_limit.in_use - (SELECT job_limit.units 
FROM job_limit 
WHERE job_limit.job_id = %(job)s::INTEGER AND job_limit.name = concurrency_limit.name)) WHERE concurrency_limit.name IN (SELECT job_limit.name 
FROM job_limit 
WHERE job_limit.job_id = %(job)s::INTEGER);

-- RETRY_POLICY
SELECT job.retries, job.retried, job.retry_delay, job.retry_backoff 
FROM job 
WHERE job.id = %(job)s::INTEGER;

-- RUNNER_COUNTER
INSERT INTO id_counter (name, value) SELECT 'runner', 0 
WHERE NOT (EXISTS (SELECT * 
FROM id_counter 
WHERE id_counter.name = %(name_1)s::VARCHAR));

-- RUN_START
SELECT job.id, job.attempts, job.ts_started, job.runner_id, now() AS now 
FROM job 
WHERE job.id = %(b_id)s::INTEGER;

-- SCOPE_OF
SELECT job.scope 
FROM job 
WHERE job.id = %(job)s::INTEGER;

-- SHIFT_BLOCKING
UPDATE job SET blocking_parents=(job.blocking_parents + %(d)s::INTEGER) WHERE job.id IN (SELECT dependency.child_id 
FROM dependency 
WHERE dependency.parent_id = %(p)s::INTEGER) RETURNING job.id, job.status, job.blocking_parents;

-- SUBJOB_OUTPUTS
SELECT job.id, job.name, job.output 
FROM job 
WHERE job.super_id = %(super)s::INTEGER ORDER BY job.id;

-- TAKE_JOB_IDS
UPDATE id_counter SET value=(max(id_counter.value, (SELECT coalesce(max(job.id), %(coalesce_2)s::INTEGER) AS coalesce_1 
FROM job)) + %(n)s::INTEGER) WHERE id_counter.name = %(name_1)s::VARCHAR RETURNING id_counter.value;

-- TAKE_RUNNER_ID
UPDATE id_counter SET value=(max(id_counter.value, (SELECT coalesce(max(runner.id), %(coalesce_2)s::INTEGER) AS coalesce_1 
FROM runner)) + %(max_1)s::INTEGER) WHERE id_counter.name = %(name_1)s::VARCHAR RETURNING id_counter.value;

-- claim_ids
UPDATE job SET status=%(status)s, output=%(output)s::VARCHAR, ts_started=now(), ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, token=%(token)s::VARCHAR, runner_id=%(runner)s::INTEGER, attempts=(job.attempts + CASE WHEN (job.sub_total = %(sub_total_1)s::INTEGER) THEN %(param_1)s::INTEGER ELSE %(param_2)s::INTEGER END) WHERE job.id IN (__[POSTCOMPILE_ids]) AND job.status = %(status_1)s RETURNING job.id, job.name, job.super_id, job.priority, job.attempts, job.sub_total, job.time_limit, job.config, job.input, EXISTS (SELECT * 
FROM dependency 
WHERE dependency.child_id = job.id) AS has_parents;

-- claim_next
WITH best AS MATERIALIZED 
(SELECT job.id AS id 
FROM job 
WHERE status = 'QUEUED' AND pending_parents = 0 AND not_before IS NULL AND job.has_limits = false AND job.name IN (__[POSTCOMPILE_tasks]) ORDER BY job.priority DESC, job.id 
 LIMIT %(count)s::INTEGER FOR UPDATE SKIP LOCKED)
 UPDATE job SET status=%(status)s, output=%(output)s::VARCHAR, ts_started=now(), ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, token=%(token)s::VARCHAR, runner_id=%(runner)s::INTEGER, attempts=(job.attempts + CASE WHEN (job.sub_total = %(sub_total_1)s::INTEGER) THEN %(param_1)s::INTEGER ELSE %(param_2)s::INTEGER END) WHERE job.id IN (SELECT best.id 
FROM best) AND job.status = %(status_1)s RETURNING job.id, job.name, job.super_id, job.priority, job.attempts, job.sub_total, job.time_limit, job.config, job.input, EXISTS (SELECT * 
FROM dependency 
WHERE dependency.child_id = job.id) AS has_parents;

-- heartbeat(30)
UPDATE runner SET heartbeat_at=now(), expires_at=(now() + make_interval(secs => 30.0)) WHERE runner.id = %(runner)s::INTEGER RETURNING runner.stop_requested;

-- limited_candidates
SELECT job.id, (SELECT count(*) FROM job_limit WHERE job_limit.job_id = job.id) AS needs 
FROM job 
WHERE status = 'QUEUED' AND pending_parents = 0 AND not_before IS NULL AND job.has_limits = true AND job.name IN (__[POSTCOMPILE_tasks]) AND NOT (has_limits AND (SELECT count(*) FROM job_limit jl LEFT JOIN concurrency_limit cl ON cl.name = jl.name WHERE jl.job_id = job.id AND (cl.name IS NULL OR cl.in_use + jl.units > cl.capacity)) > 0) ORDER BY job.priority DESC, job.id 
 LIMIT %(count)s::INTEGER FOR UPDATE OF job SKIP LOCKED;

-- tag_upsert
INSERT INTO tag (job_id, name, value) VALUES (%(job_id)s::INTEGER, %(name)s::VARCHAR, %(value)s::VARCHAR) ON CONFLICT (job_id, name) DO UPDATE SET value = excluded.value;

-- transition(ABORT, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=now(), token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER, not_before=%(not_before)s::TIMESTAMP WITH TIME ZONE WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(CLAIM, fenced)
UPDATE job SET status=%(b_new)s, output=%(output)s::VARCHAR, ts_started=now(), ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, attempts=(job.attempts + CASE WHEN (job.sub_total = %(sub_total_1)s::INTEGER) THEN %(param_1)s::INTEGER ELSE %(param_2)s::INTEGER END) WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(EDIT, fenced)
UPDATE job SET status=%(b_new)s WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(FAIL, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=now(), token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(FINISH, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=now(), token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(FINISH, output)
UPDATE job SET status=%(b_new)s, output=%(b_output)s::VARCHAR, ts_ended=now(), token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(LINK, fenced)
UPDATE job SET status=%(b_new)s WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(REMOVE, fenced)
UPDATE job SET status=%(b_new)s WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(REQUEUE, fenced)
UPDATE job SET status=%(b_new)s, ts_started=%(ts_started)s::TIMESTAMP WITH TIME ZONE, token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(RESET, fenced)
UPDATE job SET status=%(b_new)s, ts_queued=%(ts_queued)s::TIMESTAMP WITH TIME ZONE, ts_started=%(ts_started)s::TIMESTAMP WITH TIME ZONE, ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER, not_before=%(not_before)s::TIMESTAMP WITH TIME ZONE WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(RETRY, fenced)
UPDATE job SET status=%(b_new)s, ts_started=%(ts_started)s::TIMESTAMP WITH TIME ZONE, ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER, attempts=(job.attempts + CASE WHEN (job.sub_total > %(sub_total_1)s::INTEGER) THEN %(param_1)s::INTEGER ELSE %(param_2)s::INTEGER END), retried=(job.retried + %(retried_1)s::INTEGER) WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(SPAWN, fenced)
UPDATE job SET status=%(b_new)s, token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(SUBJOBS_ACTIVE, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(SUBJOBS_DONE, fenced)
UPDATE job SET status=%(b_new)s, ts_queued=now(), ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(SUBJOBS_FAILED, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=now() WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition(SUBMIT, fenced)
UPDATE job SET status=%(b_new)s, output=%(output)s::VARCHAR, ts_queued=now(), ts_started=%(ts_started)s::TIMESTAMP WITH TIME ZONE, ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, attempts=%(attempts)s::INTEGER, retried=%(retried)s::INTEGER, not_before=%(not_before)s::TIMESTAMP WITH TIME ZONE WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits;

-- transition_ending_run(FINISH, output)
WITH moved AS 
(UPDATE job SET status=%(b_new)s, output=%(b_output)s::VARCHAR, ts_ended=now(), token=%(param_1)s::VARCHAR, runner_id=%(param_2)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits), 
before AS 
(SELECT job.id AS id, job.attempts AS attempts, job.ts_started AS ts_started, job.runner_id AS runner_id, now() AS now 
FROM job 
WHERE job.id = %(b_id)s::INTEGER), 
ran AS 
(INSERT INTO job_attempt (job_id, seq, attempt, after_event, outcome, runner_id, host, queued_at, started_at, ended_at, exit_code, reason, traceback, stderr, realtime, cpu_user, cpu_sys, peak_rss, minflt, majflt, vol_ctxt, inv_ctxt, inblock, oublock, rchar, wchar, read_bytes, write_bytes, batch_id, slots) SELECT moved.id AS id, (SELECT coalesce(max(job_attempt.seq), %(coalesce_1)s::INTEGER) + %(coalesce_2)s::INTEGER AS anon_2 
FROM job_attempt 
WHERE job_attempt.job_id = moved.id) AS anon_1, before.attempts AS attempts, (SELECT max(job_event.id) AS max_1 
FROM job_event 
WHERE job_event.job_id = moved.id) AS anon_3, %(b_new)s AS anon_4, coalesce(before.runner_id, %(runner)s::INTEGER) AS coalesce_3, (SELECT runner.host 
FROM runner 
WHERE runner.id = coalesce(before.runner_id, %(runner)s::INTEGER)) AS anon_5, greatest((SELECT max(job_event.at) AS max_2 
FROM job_event 
WHERE job_event.job_id = moved.id AND job_event.new_status = %(new_status_1)s), (SELECT max(job_attempt.ended_at) AS max_3 
FROM job_attempt 
WHERE job_attempt.job_id = moved.id AND job_attempt.outcome = %(outcome_1)s AND coalesce(job_attempt.reason, %(coalesce_4)s::VARCHAR) != %(coalesce_5)s::VARCHAR)) AS greatest_1, before.ts_started AS ts_started, now() AS db_now_1, %(exit_code)s::INTEGER AS anon_6, %(reason)s::VARCHAR AS anon_7, %(traceback)s::VARCHAR AS anon_8, %(stderr)s::VARCHAR AS anon_9, %(realtime)s AS anon_10, %(cpu_user)s AS anon_11, %(cpu_sys)s AS anon_12, %(peak_rss)s::BIGINT AS anon_13, %(minflt)s::BIGINT AS anon_14, %(majflt)s::BIGINT AS anon_15, %(vol_ctxt)s::BIGINT AS anon_16, %(inv_ctxt)s::BIGINT AS anon_17, %(inblock)s::BIGINT AS anon_18, %(oublock)s::BIGINT AS anon_19, %(rchar)s::BIGINT AS anon_20, %(wchar)s::BIGINT AS anon_21, %(read_bytes)s::BIGINT AS anon_22, %(write_bytes)s::BIGINT AS anon_23, %(batch_id)s::VARCHAR AS anon_24, %(slots)s::INTEGER AS anon_25 
FROM moved JOIN before ON before.id = moved.id)
 SELECT moved.has_children, moved.attempts, moved.blocking_parents, moved.has_limits 
FROM moved;

-- transition_with_event(FINISH, output)
WITH moved AS 
(UPDATE job SET status=%(b_new)s, output=%(b_output)s::VARCHAR, ts_ended=now(), token=%(param_1)s::VARCHAR, runner_id=%(param_2)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS has_children, job.attempts, job.blocking_parents, job.id, job.has_limits), 
moved_event AS 
(INSERT INTO job_event (job_id, old_status, new_status, attempt, runner_id, host, exit_code, reason, traceback, stderr) SELECT moved.id AS id, %(old)s AS anon_1, %(new)s AS anon_2, moved.attempts AS attempts, %(runner)s::INTEGER AS anon_3, (SELECT runner.host 
FROM runner 
WHERE runner.id = %(runner)s::INTEGER) AS anon_4, %(exit_code)s::INTEGER AS anon_5, %(reason)s::VARCHAR AS anon_6, %(traceback)s::VARCHAR AS anon_7, %(stderr)s::VARCHAR AS anon_8 
FROM moved)
 SELECT moved.has_children, moved.attempts, moved.blocking_parents, moved.has_limits 
FROM moved;
