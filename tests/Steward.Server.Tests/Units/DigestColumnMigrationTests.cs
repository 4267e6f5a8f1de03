using Microsoft.Data.Sqlite;
using Steward.State.Sqlite;

namespace Steward.Server.Tests.Units;

/// <summary>A state database from before a column change (the plaintext digest naming its algorithm, drill schedules' source) is carried over at start, rows intact.</summary>
public sealed class DigestColumnMigrationTests : IDisposable
{
    private const string OldSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private readonly string _root = Directory.CreateTempSubdirectory("digest-migration-").FullName;

    [Fact]
    public async Task The_plaintext_sha256_columns_of_an_existing_database_become_plaintext_digest_with_their_values_kept_and_a_second_start_changes_nothing()
    {
        var path = Path.Combine(_root, "steward.db");
        await using (var old = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = $"""
                CREATE TABLE backups (
                    id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, service TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
                    storage TEXT NOT NULL, key TEXT NOT NULL, failed_stage TEXT, failure_kind TEXT, message TEXT,
                    plaintext_bytes INTEGER NOT NULL, stored_bytes INTEGER NOT NULL, plaintext_sha256 TEXT, stored_sha256 TEXT,
                    manifest TEXT, originating_identity TEXT, started_at TEXT NOT NULL, completed_at TEXT);
                CREATE TABLE wal_files (
                    instance_id TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, plaintext_bytes INTEGER NOT NULL,
                    stored_bytes INTEGER NOT NULL, plaintext_sha256 TEXT NOT NULL, stored_sha256 TEXT NOT NULL, archived_at TEXT NOT NULL,
                    last_commit_at TEXT, commits_read INTEGER NOT NULL DEFAULT 0, history TEXT, PRIMARY KEY (instance_id, name));
                INSERT INTO backups VALUES ('bk-old', 'i1', 'postgresql', 'physical', 'Succeeded', 'filesystem', 'i1/bk-old', NULL, NULL, NULL,
                    4, 4, '{OldSha256}', '{OldSha256}', NULL, NULL, '2026-01-01T00:00:00.0000000+00:00', '2026-01-01T00:00:01.0000000+00:00');
                INSERT INTO wal_files VALUES ('i1', '000000010000000000000001', 'i1/wal/000000010000000000000001', 16777216, 100,
                    '{OldSha256}', '{OldSha256}', '2026-01-01T00:00:02.0000000+00:00', NULL, 0, NULL);
                """;
            await create.ExecuteNonQueryAsync();
        }

        for (var start = 0; start < 2; start++)
        {
            var store = new SqliteStateStore(path, Steward.Security.CredentialKey.LoadOrCreate(Path.Combine(_root, "credentials.key")));
            await store.InitializeAsync(CancellationToken.None);
            (await store.GetBackupAsync("bk-old", CancellationToken.None))!.PlaintextDigest.ShouldBe(OldSha256, $"start {start + 1}");
            (await store.ListWalFilesAsync("i1", CancellationToken.None)).Single().PlaintextDigest.ShouldBe(OldSha256);
        }

        await using var check = new SqliteConnection($"Data Source={path};Pooling=false");
        await check.OpenAsync();
        await using var columns = check.CreateCommand();
        columns.CommandText = "SELECT count(*) FROM pragma_table_info('backups') WHERE name = 'plaintext_sha256'";
        ((long)(await columns.ExecuteScalarAsync())!).ShouldBe(0);
    }

    [Fact]
    public async Task A_drill_schedule_from_before_plan_defaults_reads_as_the_instance_s_own_and_a_second_start_changes_nothing()
    {
        var path = Path.Combine(_root, "drills.db");
        await using (var old = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE rehearsal_schedules (
                    instance_id TEXT PRIMARY KEY, cron TEXT, time_zone TEXT NOT NULL, every_seconds INTEGER, next_run_at TEXT NOT NULL,
                    due_at TEXT NOT NULL, running_rehearsal_id TEXT, last_run_at TEXT, last_rehearsal_id TEXT, last_result TEXT,
                    last_message TEXT, incident_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
                INSERT INTO rehearsal_schedules VALUES ('i1', NULL, 'UTC', 604800, '2026-01-08T00:00:00.0000000+00:00', '2026-01-08T00:00:00.0000000+00:00',
                    NULL, NULL, NULL, 'passed', NULL, NULL, '2026-01-01T00:00:00.0000000+00:00', '2026-01-01T00:00:00.0000000+00:00');
                """;
            await create.ExecuteNonQueryAsync();
        }

        for (var start = 0; start < 2; start++)
        {
            var store = new SqliteStateStore(path, Steward.Security.CredentialKey.LoadOrCreate(Path.Combine(_root, "credentials.key")));
            await store.InitializeAsync(CancellationToken.None);
            var drill = (await store.GetDrillScheduleAsync("i1", CancellationToken.None))!;
            (drill.Source, drill.Every, drill.LastResult).ShouldBe(("instance", (TimeSpan?)TimeSpan.FromDays(7), "passed"), $"start {start + 1}");
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }
}
