using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Steward.Backup.Pipeline;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Tests.Infrastructure;
using Steward.Backups;
using Steward.Server.Backups.Retention;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.StateStore;
using Steward.State.Relational;

namespace Steward.Server.Tests.Backups.Schedules;

/// <summary>
/// Retention over four simulated months of daily backups, evaluated after each one as the broker does, on a
/// real state store (SQLite, then PostgreSQL) and real file-system storage: exactly the backups the policy names
/// remain, in the store and in storage.
/// </summary>
public sealed class RetentionTests(StatePostgres postgres) : StoreTests(postgres)
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly RecordingParticipant _participant = new();
    private RelationalStateStore _store = null!;
    private FileSystemStorage _storage = null!;
    private RetentionService _retention = null!;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Four_months_of_daily_backups_keep_exactly_the_last_daily_weekly_and_monthly_ones_and_the_pinned_one(string kind)
    {
        await UseAsync(kind);
        await ScheduleAsync(new RetentionPolicy { KeepLast = 3, KeepDaily = 7, KeepWeekly = 4, KeepMonthly = 3 });
        string? pinned = null;
        for (var day = new DateTime(2026, 1, 1); day <= new DateTime(2026, 4, 30); day = day.AddDays(1))
        {
            _clock.SetUtcNow(new DateTimeOffset(day.AddHours(3), TimeSpan.Zero));
            var id = await BackupAsync();
            if (day == new DateTime(2026, 1, 15))
            {
                pinned = id;
                await _store.SetPinnedAsync(id, _clock.GetUtcNow(), CancellationToken.None);
            }

            await _retention.PruneAsync("db1", CancellationToken.None);
        }

        // daily 7: 24–30 April; weekly 4 (ISO weeks 18, 17, 16, 15): 30, 26, 19, 12 April; monthly 3: 30 April,
        // 31 March, 28 February; last 3: 28–30 April; plus the pinned backup of 15 January.
        string[] expected = ["2026-04-30", "2026-04-29", "2026-04-28", "2026-04-27", "2026-04-26", "2026-04-25", "2026-04-24",
            "2026-04-19", "2026-04-12", "2026-03-31", "2026-02-28", "2026-01-15"];
        var left = await _store.ListBackupsAsync("db1", CancellationToken.None);
        left.Select(b => b.CompletedAt!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).OrderDescending().ShouldBe(expected);
        left.ShouldAllBe(b => b.State == BackupState.Succeeded);
        left.ShouldContain(b => b.Id == pinned);

        var stored = new List<string>();
        await foreach (var o in _storage.ListAsync("db1/", CancellationToken.None))
        {
            stored.Add(o.Key);
        }

        stored.Order().ShouldBe(left.SelectMany(b => new[] { b.Key, b.Key + ".manifest.json" }).Order(), "storage holds exactly the kept backups");

        _participant.Last!.OldestKeptBase!.CompletedAt!.Value.Date.ShouldBe(new DateTime(2026, 2, 28), "the pinned January backup does not extend the WAL window");
        _participant.Calls.ShouldBe(120, "told after every pass");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_backup_a_participant_protects_and_the_newest_backup_are_never_deleted(string kind)
    {
        await UseAsync(kind);
        await ScheduleAsync(new RetentionPolicy { KeepMonthly = 1 });
        var first = await BackupAsync();
        _clock.Advance(TimeSpan.FromDays(40));
        _participant.Protect = first;
        var second = await BackupAsync();
        _clock.Advance(TimeSpan.FromHours(1));
        var third = await BackupAsync();

        var outcome = await _retention.PruneAsync("db1", CancellationToken.None);
        outcome!.Deleted.Select(b => b.Id).ShouldBe([second], "second is not the newest of its month; first is protected");
        (await _store.ListBackupsAsync("db1", CancellationToken.None)).Select(b => b.Id).Order().ShouldBe(new[] { first, third }.Order());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_deletion_interrupted_after_the_mark_is_never_listed_as_good_and_finishes_on_resume(string kind)
    {
        await UseAsync(kind);
        await ScheduleAsync(new RetentionPolicy { KeepLast = 1 });
        var old = await BackupAsync();
        _clock.Advance(TimeSpan.FromHours(1));
        await BackupAsync();

        // The broker dies right after marking: the state file says deleting, storage still has both objects.
        var record = (await _store.GetBackupAsync(old, CancellationToken.None))!;
        await _store.SaveBackupAsync(record with { State = BackupState.Deleting }, CancellationToken.None);
        File.Delete(Path.Combine(_dir.File("backups"), "db1", old + ".manifest.json"));
        (await _store.GetBackupAsync(old, CancellationToken.None))!.State.ShouldBe(BackupState.Deleting);

        await new BackupDeleter(_store, _storage, NullLogger<BackupDeleter>.Instance).ResumeAsync(CancellationToken.None);
        (await _store.GetBackupAsync(old, CancellationToken.None)).ShouldBeNull();
        (await _storage.ExistsAsync($"db1/{old}", CancellationToken.None)).ShouldBeFalse();
    }

    private async Task UseAsync(string kind)
    {
        (_store, _) = await Stores.CreateAsync(kind);
        _storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _dir.File("backups"), Fsync = false });
        var deleter = new BackupDeleter(_store, _storage, NullLogger<BackupDeleter>.Instance);
        _retention = new RetentionService(_store, _store, deleter, [_participant], NullLogger<RetentionService>.Instance);
    }

    private Task ScheduleAsync(RetentionPolicy policy) => _store.SaveScheduleAsync(
        new BackupSchedule
        {
            InstanceId = "db1", Source = "instance", Cron = "0 3 * * *", Retention = policy,
            NextRunAt = _clock.GetUtcNow(), DueAt = _clock.GetUtcNow(), CreatedAt = _clock.GetUtcNow(), UpdatedAt = _clock.GetUtcNow(),
        },
        CancellationToken.None);

    /// <summary>A succeeded physical backup with its data object and manifest in storage.</summary>
    private async Task<string> BackupAsync()
    {
        var id = "bk-" + _clock.GetUtcNow().ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
        foreach (var key in new[] { $"db1/{id}", $"db1/{id}.manifest.json" })
        {
            await using var w = await _storage.OpenWriteAsync(key, CancellationToken.None);
            await w.WriteAsync("data"u8.ToArray(), CancellationToken.None);
            await w.CompleteAsync(CancellationToken.None);
        }

        await _store.SaveBackupAsync(
            new BackupRecord
            {
                Id = id, InstanceId = "db1", Service = "postgresql", Kind = "physical", State = BackupState.Succeeded, Storage = "filesystem",
                Key = $"db1/{id}", StartedAt = _clock.GetUtcNow(), CompletedAt = _clock.GetUtcNow(),
            },
            CancellationToken.None);
        return id;
    }

    private sealed class RecordingParticipant : IRetentionParticipant
    {
        public string? Protect { get; set; }

        public RetentionOutcome? Last { get; private set; }

        public int Calls { get; private set; }

        public Task<IReadOnlySet<string>> ProtectedBackupsAsync(string instanceId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlySet<string>>(Protect is null ? new HashSet<string>() : new HashSet<string> { Protect });

        public Task AfterPruneAsync(RetentionOutcome outcome, CancellationToken cancellationToken)
        {
            Last = outcome;
            Calls++;
            return Task.CompletedTask;
        }
    }
}
