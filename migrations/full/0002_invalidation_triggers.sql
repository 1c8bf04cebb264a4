-- Invalidation triggers: a change to a control-plane row that runview caches notifies every
-- runview replica on the `runview_invalidate` channel, so upstream writes reach the caches without
-- an Invalidate call. The notices are the ones runview publishes itself:
--   {"scope":"environment","id":…}   {"scope":"organization","id":…}   {"scope":"all"}
-- Applies after 0001_reference_schema.sql.
--
-- Only changes to the columns runview reads notify: the upstream application updates these rows
-- for many other reasons, and each of those would otherwise drop cache entries for nothing.
-- PostgreSQL delivers notices at commit, and identical notices of one transaction once, so a
-- cascading delete sends one notice per distinct scope.

CREATE FUNCTION runview_notify_invalidation(scope TEXT, id TEXT) RETURNS VOID
LANGUAGE sql AS $$
    SELECT pg_notify(
        'runview_invalidate',
        CASE WHEN id IS NULL
            THEN json_build_object('scope', scope)
            ELSE json_build_object('scope', scope, 'id', id)
        END::text
    )
$$;

-- An environment; when its key changes, also its branches, which sign with it.
CREATE FUNCTION runview_invalidate_environment() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM runview_notify_invalidation('environment', OLD."id");
    IF TG_OP = 'UPDATE' THEN
        PERFORM runview_notify_invalidation('environment', NEW."id");
        IF OLD."apiKey" IS DISTINCT FROM NEW."apiKey" THEN
            PERFORM runview_notify_invalidation('environment', branch."id")
            FROM "RuntimeEnvironment" branch
            WHERE branch."parentEnvironmentId" = NEW."id";
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER runview_invalidate_on_update
    AFTER UPDATE ON "RuntimeEnvironment"
    FOR EACH ROW
    WHEN ((OLD."id", OLD."slug", OLD."type", OLD."apiKey", OLD."projectId", OLD."organizationId",
           OLD."parentEnvironmentId", OLD."branchName", OLD."orgMemberId")
          IS DISTINCT FROM
          (NEW."id", NEW."slug", NEW."type", NEW."apiKey", NEW."projectId", NEW."organizationId",
           NEW."parentEnvironmentId", NEW."branchName", NEW."orgMemberId"))
    EXECUTE FUNCTION runview_invalidate_environment();

CREATE TRIGGER runview_invalidate_on_delete
    AFTER DELETE ON "RuntimeEnvironment"
    FOR EACH ROW
    EXECUTE FUNCTION runview_invalidate_environment();

-- An organization: every environment shows its slug.
CREATE FUNCTION runview_invalidate_organization() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM runview_notify_invalidation('organization', OLD."id");
    RETURN NULL;
END
$$;

CREATE TRIGGER runview_invalidate_on_update
    AFTER UPDATE ON "Organization"
    FOR EACH ROW
    WHEN ((OLD."id", OLD."slug") IS DISTINCT FROM (NEW."id", NEW."slug"))
    EXECUTE FUNCTION runview_invalidate_organization();

CREATE TRIGGER runview_invalidate_on_delete
    AFTER DELETE ON "Organization"
    FOR EACH ROW
    EXECUTE FUNCTION runview_invalidate_organization();

-- A project: the organization of its environments, the one it leaves and the one it joins.
CREATE FUNCTION runview_invalidate_project() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM runview_notify_invalidation('organization', OLD."organizationId");
    IF TG_OP = 'UPDATE' THEN
        PERFORM runview_notify_invalidation('organization', NEW."organizationId");
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER runview_invalidate_on_update
    AFTER UPDATE ON "Project"
    FOR EACH ROW
    WHEN ((OLD."id", OLD."slug", OLD."externalRef", OLD."organizationId")
          IS DISTINCT FROM (NEW."id", NEW."slug", NEW."externalRef", NEW."organizationId"))
    EXECUTE FUNCTION runview_invalidate_project();

CREATE TRIGGER runview_invalidate_on_delete
    AFTER DELETE ON "Project"
    FOR EACH ROW
    EXECUTE FUNCTION runview_invalidate_project();

-- The owner name of development environments: the organizations of the environments a member,
-- or any member of a user, owns. Renames and departures are rare, so no index backs the lookup.
CREATE FUNCTION runview_invalidate_owner() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'User' THEN
        PERFORM runview_notify_invalidation('organization', environment."organizationId")
        FROM "RuntimeEnvironment" environment
        JOIN "OrgMember" member ON member."id" = environment."orgMemberId"
        WHERE member."userId" = OLD."id"
        GROUP BY environment."organizationId";
    ELSE
        PERFORM runview_notify_invalidation('organization', environment."organizationId")
        FROM "RuntimeEnvironment" environment
        WHERE environment."orgMemberId" = OLD."id"
        GROUP BY environment."organizationId";
    END IF;
    RETURN NULL;
END
$$;

-- A deleted user's members go by cascade, which fires the member triggers.
CREATE TRIGGER runview_invalidate_on_update
    AFTER UPDATE ON "User"
    FOR EACH ROW
    WHEN ((OLD."name", OLD."displayName") IS DISTINCT FROM (NEW."name", NEW."displayName"))
    EXECUTE FUNCTION runview_invalidate_owner();

CREATE TRIGGER runview_invalidate_on_update
    AFTER UPDATE ON "OrgMember"
    FOR EACH ROW
    WHEN ((OLD."id", OLD."userId") IS DISTINCT FROM (NEW."id", NEW."userId"))
    EXECUTE FUNCTION runview_invalidate_owner();

CREATE TRIGGER runview_invalidate_on_delete
    AFTER DELETE ON "OrgMember"
    FOR EACH ROW
    EXECUTE FUNCTION runview_invalidate_owner();

-- Worker versions and schedules are cached by id with no scope of their own.
CREATE FUNCTION runview_invalidate_all() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM runview_notify_invalidation('all', NULL);
    RETURN NULL;
END
$$;

CREATE TRIGGER runview_invalidate_on_update
    AFTER UPDATE ON "BackgroundWorker"
    FOR EACH ROW
    WHEN ((OLD."id", OLD."version") IS DISTINCT FROM (NEW."id", NEW."version"))
    EXECUTE FUNCTION runview_invalidate_all();

CREATE TRIGGER runview_invalidate_on_delete
    AFTER DELETE ON "BackgroundWorker"
    FOR EACH ROW
    EXECUTE FUNCTION runview_invalidate_all();

CREATE TRIGGER runview_invalidate_on_update
    AFTER UPDATE ON "TaskSchedule"
    FOR EACH ROW
    WHEN ((OLD."id", OLD."friendlyId", OLD."externalId", OLD."deduplicationKey",
           OLD."userProvidedDeduplicationKey", OLD."generatorExpression",
           OLD."generatorDescription")
          IS DISTINCT FROM
          (NEW."id", NEW."friendlyId", NEW."externalId", NEW."deduplicationKey",
           NEW."userProvidedDeduplicationKey", NEW."generatorExpression",
           NEW."generatorDescription"))
    EXECUTE FUNCTION runview_invalidate_all();

CREATE TRIGGER runview_invalidate_on_delete
    AFTER DELETE ON "TaskSchedule"
    FOR EACH ROW
    EXECUTE FUNCTION runview_invalidate_all();
