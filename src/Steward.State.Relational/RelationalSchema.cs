namespace Steward.State.Relational;

/// <summary>
/// The schema both stores create, column for column, so that they share every statement: times as ISO-8601 UTC text,
/// 64-bit integers where byte counts and intervals are kept, and an insertion-order column where the dialect needs one
/// (SQLite has its rowid). Statements are idempotent, so initialization runs at every start; each store adds what its
/// earlier releases need migrated.
/// </summary>
public static class RelationalSchema
{
    public static string Create(SqlDialect dialect) => $"""
        CREATE TABLE IF NOT EXISTS steward_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS instances (
            id TEXT PRIMARY KEY,
            internal_id TEXT NOT NULL UNIQUE,
            service_id TEXT NOT NULL,
            plan_id TEXT NOT NULL,
            parameters TEXT NOT NULL,
            context TEXT,
            organization_guid TEXT,
            space_guid TEXT,
            maintenance_version TEXT,
            port INTEGER,
            admin_user TEXT NOT NULL,
            admin_password TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS instances_live_port ON instances(port) WHERE port IS NOT NULL AND state <> 'Deleted';
        CREATE INDEX IF NOT EXISTS instances_state ON instances(state);
        CREATE TABLE IF NOT EXISTS bindings (
            id TEXT PRIMARY KEY,
            instance_id TEXT NOT NULL,
            service_id TEXT NOT NULL,
            plan_id TEXT NOT NULL,
            parameters TEXT NOT NULL,
            app_guid TEXT,
            username TEXT NOT NULL,
            password TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            api_token TEXT,
            api_token_hash TEXT
        );
        CREATE INDEX IF NOT EXISTS bindings_instance ON bindings(instance_id);
        CREATE TABLE IF NOT EXISTS operations (
            {dialect.InsertionOrderColumn}
            id TEXT PRIMARY KEY,
            instance_id TEXT NOT NULL,
            binding_id TEXT,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            description TEXT NOT NULL,
            step TEXT,
            payload TEXT,
            originating_identity TEXT,
            request_identity TEXT,
            instance_usable INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS operations_instance ON operations(instance_id);
        CREATE INDEX IF NOT EXISTS operations_state ON operations(state);
        CREATE INDEX IF NOT EXISTS operations_finished ON operations(state, updated_at);
        CREATE INDEX IF NOT EXISTS operations_latest ON operations(instance_id, binding_id);
        CREATE TABLE IF NOT EXISTS incidents (
            {dialect.InsertionOrderColumn}
            id TEXT PRIMARY KEY,
            instance_id TEXT NOT NULL,
            class TEXT NOT NULL,
            state TEXT NOT NULL,
            summary TEXT NOT NULL,
            evidence TEXT NOT NULL,
            timeline TEXT NOT NULL,
            restarts INTEGER NOT NULL,
            preserved_path TEXT,
            opened_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS incidents_instance ON incidents(instance_id);
        CREATE INDEX IF NOT EXISTS incidents_state ON incidents(state, updated_at);
        CREATE TABLE IF NOT EXISTS backups (
            {dialect.InsertionOrderColumn}
            id TEXT PRIMARY KEY,
            instance_id TEXT NOT NULL,
            service TEXT NOT NULL,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            storage TEXT NOT NULL,
            key TEXT NOT NULL,
            failed_stage TEXT,
            failure_kind TEXT,
            message TEXT,
            plaintext_bytes {dialect.BigInteger} NOT NULL,
            stored_bytes {dialect.BigInteger} NOT NULL,
            plaintext_digest TEXT,
            stored_sha256 TEXT,
            manifest TEXT,
            originating_identity TEXT,
            started_at TEXT NOT NULL,
            completed_at TEXT
        );
        CREATE INDEX IF NOT EXISTS backups_instance ON backups(instance_id);
        CREATE TABLE IF NOT EXISTS wal_files (
            instance_id TEXT NOT NULL,
            name TEXT NOT NULL,
            key TEXT NOT NULL,
            plaintext_bytes {dialect.BigInteger} NOT NULL,
            stored_bytes {dialect.BigInteger} NOT NULL,
            plaintext_digest TEXT NOT NULL,
            stored_sha256 TEXT NOT NULL,
            archived_at TEXT NOT NULL,
            last_commit_at TEXT,
            commits_read INTEGER NOT NULL DEFAULT 0,
            history TEXT,
            PRIMARY KEY (instance_id, name)
        );
        CREATE TABLE IF NOT EXISTS restore_points (
            instance_id TEXT NOT NULL,
            name TEXT NOT NULL,
            lsn TEXT NOT NULL,
            timeline INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (instance_id, name)
        );
        CREATE TABLE IF NOT EXISTS ha_members (
            {dialect.InsertionOrderColumn}
            instance_id TEXT NOT NULL,
            name TEXT NOT NULL,
            slot INTEGER NOT NULL,
            port INTEGER NOT NULL,
            role TEXT NOT NULL,
            detail TEXT,
            incident_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (instance_id, name)
        );
        CREATE TABLE IF NOT EXISTS ha_endpoints (
            instance_id TEXT PRIMARY KEY,
            ro_port INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS backup_schedules (
            instance_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            cron TEXT,
            time_zone TEXT NOT NULL,
            every_seconds {dialect.BigInteger},
            kind TEXT,
            keep_last INTEGER,
            keep_daily INTEGER,
            keep_weekly INTEGER,
            keep_monthly INTEGER,
            next_run_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            retry_at TEXT,
            attempts INTEGER NOT NULL,
            running_backup_id TEXT,
            last_run_at TEXT,
            last_backup_id TEXT,
            last_result TEXT,
            last_message TEXT,
            incident_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS backup_pins (
            backup_id TEXT PRIMARY KEY,
            pinned_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS pool_entries (
            id TEXT PRIMARY KEY,
            service_id TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            state TEXT NOT NULL,
            admin_password TEXT NOT NULL,
            instance_id TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS pool_entries_take ON pool_entries (service_id, state, fingerprint, created_at);
        CREATE TABLE IF NOT EXISTS rehearsals (
            {dialect.InsertionOrderColumn}
            id TEXT PRIMARY KEY,
            instance_id TEXT NOT NULL,
            state TEXT NOT NULL,
            port INTEGER,
            started_at TEXT NOT NULL,
            report TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS rehearsals_instance ON rehearsals (instance_id, started_at);
        CREATE TABLE IF NOT EXISTS rehearsal_schedules (
            instance_id TEXT PRIMARY KEY,
            cron TEXT,
            time_zone TEXT NOT NULL,
            every_seconds {dialect.BigInteger},
            next_run_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            running_rehearsal_id TEXT,
            last_run_at TEXT,
            last_rehearsal_id TEXT,
            last_result TEXT,
            last_message TEXT,
            incident_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'instance'
        );
        CREATE TABLE IF NOT EXISTS broker_lease (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            epoch {dialect.BigInteger} NOT NULL,
            version {dialect.BigInteger} NOT NULL,
            renewed_at TEXT NOT NULL
        );
        """;

    /// <summary>
    /// Indexes on columns a store of an earlier release may have had to add first (each store runs this after its
    /// migrations): an API call with an instance token finds its binding by the token's hash, so without it every such
    /// call read every binding.
    /// </summary>
    public const string IndexesAfterMigration = """
        CREATE INDEX IF NOT EXISTS bindings_token ON bindings(api_token_hash) WHERE api_token_hash IS NOT NULL;
        """;
}
