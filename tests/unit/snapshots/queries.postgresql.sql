-- ADD_PENDING_PARENTS
UPDATE job SET pending_parents=(job.pending_parents + %(n)s::INTEGER) WHERE job.id IN (__[POSTCOMPILE_ids]) RETURNING job.status, job.pending_parents;

-- ADJUST_SUPERJOB
UPDATE job SET sub_total=(job.sub_total + %(t)s::INTEGER), sub_done=(job.sub_done + %(d)s::INTEGER), sub_failed=(job.sub_failed + %(f)s::INTEGER) WHERE job.id = %(s)s::INTEGER RETURNING job.status, job.super_id, job.sub_total, job.sub_done, job.sub_failed;

-- CLAIMED_ROW
SELECT job.id, job.name, job.super_id, job.attempts, job.sub_total, job.config, job.input, EXISTS (SELECT * 
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

-- HELD_TOKEN
SELECT job.token 
FROM job 
WHERE job.id = %(job)s::INTEGER FOR UPDATE;

-- HELD_TOKENS
SELECT job.id, job.token 
FROM job 
WHERE job.id IN (__[POSTCOMPILE_ids]);

-- LOST_RUNNERS
SELECT runner.id 
FROM runner 
WHERE runner.expires_at < now();

-- ORPHANED_JOBS
SELECT job.id, job.super_id, job.token, job.attempts, job.max_attempts 
FROM job 
WHERE job.status = %(status_1)s AND (job.runner_id IN (SELECT runner.id 
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

-- RELEASE_CHILDREN
UPDATE job SET pending_parents=(job.pending_parents - %(pending_parents_1)s::INTEGER) WHERE job.id IN (SELECT dependency.child_id 
FROM dependency 
WHERE dependency.parent_id = %(p)s::INTEGER) RETURNING job.status, job.pending_parents;

-- SUBJOB_OUTPUTS
SELECT job.id, job.name, job.output 
FROM job 
WHERE job.super_id = %(super)s::INTEGER ORDER BY job.id;

-- claim_next
UPDATE job SET status=%(status)s, output=%(output)s::VARCHAR, ts_started=now(), ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, token=%(token)s::VARCHAR, runner_id=%(runner)s::INTEGER, attempts=(job.attempts + %(attempts_1)s::INTEGER) WHERE job.id = (SELECT job.id 
FROM job 
WHERE status = 'QUEUED' AND pending_parents = 0 AND job.name IN (__[POSTCOMPILE_tasks]) ORDER BY job.priority DESC, job.id 
 LIMIT %(param_1)s::INTEGER FOR UPDATE SKIP LOCKED) AND job.status = %(status_1)s RETURNING job.id, job.name, job.super_id, job.attempts, job.sub_total, job.config, job.input, EXISTS (SELECT * 
FROM dependency 
WHERE dependency.child_id = job.id) AS has_parents;

-- heartbeat(30)
UPDATE runner SET heartbeat_at=now(), expires_at=(now() + make_interval(secs => 30.0)) WHERE runner.id = %(runner)s::INTEGER RETURNING runner.stop_requested;

-- tag_upsert
INSERT INTO tag (job_id, name, value) VALUES (%(job_id)s::INTEGER, %(name)s::VARCHAR, %(value)s::VARCHAR) ON CONFLICT (job_id, name) DO UPDATE SET value = excluded.value;

-- transition(ABORT, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=now(), token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(CLAIM, fenced)
UPDATE job SET status=%(b_new)s, output=%(output)s::VARCHAR, ts_started=now(), ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, attempts=(job.attempts + %(attempts_1)s::INTEGER) WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(EDIT, fenced)
UPDATE job SET status=%(b_new)s WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(FAIL, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=now(), token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(FINISH, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=now(), token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(FINISH, output)
UPDATE job SET status=%(b_new)s, output=%(b_output)s::VARCHAR, ts_ended=now(), token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(LINK, fenced)
UPDATE job SET status=%(b_new)s WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(REMOVE, fenced)
UPDATE job SET status=%(b_new)s WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(REQUEUE, fenced)
UPDATE job SET status=%(b_new)s, ts_started=%(ts_started)s::TIMESTAMP WITH TIME ZONE, token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(RESET, fenced)
UPDATE job SET status=%(b_new)s, ts_queued=%(ts_queued)s::TIMESTAMP WITH TIME ZONE, ts_started=%(ts_started)s::TIMESTAMP WITH TIME ZONE, ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(SPAWN, fenced)
UPDATE job SET status=%(b_new)s, token=%(token)s::VARCHAR, runner_id=%(runner_id)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(SUBJOBS_ACTIVE, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(SUBJOBS_DONE, fenced)
UPDATE job SET status=%(b_new)s, ts_queued=now(), ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(SUBJOBS_FAILED, fenced)
UPDATE job SET status=%(b_new)s, ts_ended=now() WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;

-- transition(SUBMIT, fenced)
UPDATE job SET status=%(b_new)s, output=%(output)s::VARCHAR, ts_queued=now(), ts_started=%(ts_started)s::TIMESTAMP WITH TIME ZONE, ts_ended=%(ts_ended)s::TIMESTAMP WITH TIME ZONE, attempts=%(attempts)s::INTEGER WHERE job.id = %(b_id)s::INTEGER AND job.status = %(b_old)s AND job.token = %(b_token)s::VARCHAR RETURNING EXISTS (SELECT * 
FROM dependency 
WHERE dependency.parent_id = job.id) AS anon_1;
