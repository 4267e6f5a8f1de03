namespace Steward.State.Sqlite;

/// <summary>The SQLite schema. Statements are idempotent so initialization can run at every start.</summary>
internal static class Schema
{
    public const string Create = """
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
            created_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS bindings_instance ON bindings(instance_id);
        CREATE TABLE IF NOT EXISTS operations (
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
        CREATE TABLE IF NOT EXISTS incidents (
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
        CREATE TABLE IF NOT EXISTS backups (
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
            plaintext_bytes INTEGER NOT NULL,
            stored_bytes INTEGER NOT NULL,
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
            plaintext_bytes INTEGER NOT NULL,
            stored_bytes INTEGER NOT NULL,
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
        """;

    /// <summary>The tables and indexes created after the legacy credentials are sealed (they hold none from before).</summary>
    public const string CreateLater = """
        CREATE TABLE IF NOT EXISTS backup_schedules (
            instance_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            cron TEXT,
            time_zone TEXT NOT NULL,
            every_seconds INTEGER,
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
        CREATE INDEX IF NOT EXISTS instances_state ON instances(state);
        CREATE INDEX IF NOT EXISTS operations_finished ON operations(state, updated_at);
        CREATE INDEX IF NOT EXISTS operations_latest ON operations(instance_id, binding_id);
        CREATE INDEX IF NOT EXISTS incidents_state ON incidents(state, updated_at);
        CREATE TABLE IF NOT EXISTS rehearsals (
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
            every_seconds INTEGER,
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
            epoch INTEGER NOT NULL,
            version INTEGER NOT NULL,
            renewed_at TEXT NOT NULL
        );
        """;

    /// <summary>
    /// Columns renamed since a release, old name to new, applied to an existing database at start. The plaintext digest
    /// names its algorithm since BLAKE3 replaced SHA-256 (rows from before keep their bare SHA-256 hex, which
    /// Steward.Backup.Integrity.ContentHasher reads as such).
    /// </summary>
    public static readonly (string Table, string From, string To)[] RenamedColumns =
    [
        ("backups", "plaintext_sha256", "plaintext_digest"),
        ("wal_files", "plaintext_sha256", "plaintext_digest"),
    ];

    /// <summary>Columns added after the first release; each is added when missing.</summary>
    public static readonly (string Table, string Column, string Definition)[] AddedColumns =
    [
        ("bindings", "api_token", "TEXT"),
        ("bindings", "api_token_hash", "TEXT"),
        ("rehearsal_schedules", "source", "TEXT NOT NULL DEFAULT 'instance'"),
    ];
}
