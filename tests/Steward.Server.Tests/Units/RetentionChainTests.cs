using System.Text;
using Steward.Backup.Manifest;
using Steward.Backup.Unpack;
using Steward.Backups;
using Steward.Server.Backups.Retention;

namespace Steward.Server.Tests.Units;

/// <summary>Retention never deletes a backup that a kept incremental backup is restored from.</summary>
public sealed class RetentionChainTests
{
    private static readonly DateTimeOffset Day = new(2026, 11, 1, 2, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_kept_incremental_backup_keeps_the_backups_it_builds_on_and_nothing_else()
    {
        // Two chains: old full ← old incr, then new full ← incr1 ← incr2. keep_last 1 keeps incr2 only by policy.
        var backups = new[]
        {
            Backup("old-full", 0, []),
            Backup("old-incr", 1, ["old-full"]),
            Backup("full", 2, []),
            Backup("incr1", 3, ["full"]),
            Backup("incr2", 4, ["full", "incr1"]),
        };

        var decisions = RetentionPlanner.Plan(backups, new RetentionPolicy { KeepLast = 1 }, new HashSet<string>(), new HashSet<string>(), TimeZoneInfo.Utc)
            .ToDictionary(d => d.Backup.Id);

        decisions["incr2"].KeptByPolicy.ShouldBeTrue();
        decisions["incr1"].Reasons.ShouldBe(["chain of incr2"]);
        decisions["full"].Reasons.ShouldBe(["chain of incr2"]);
        decisions["full"].KeptByPolicy.ShouldBeFalse("a chain link alone holds no WAL back");
        decisions["old-incr"].Keep.ShouldBeFalse();
        decisions["old-full"].Keep.ShouldBeFalse();
    }

    [Fact]
    public void A_pinned_incremental_backup_keeps_its_chain()
    {
        var backups = new[] { Backup("full", 0, []), Backup("incr1", 1, ["full"]), Backup("full2", 2, []) };

        var decisions = RetentionPlanner.Plan(backups, new RetentionPolicy { KeepLast = 1 }, new HashSet<string> { "incr1" }, new HashSet<string>(), TimeZoneInfo.Utc)
            .ToDictionary(d => d.Backup.Id);

        decisions["incr1"].Reasons.ShouldBe(["pinned"]);
        decisions["full"].Reasons.ShouldBe(["chain of incr1"]);
    }

    private static BackupRecord Backup(string id, int day, string[] parents)
    {
        var files = new[] { new BackupChain.Entry(parents.FirstOrDefault() ?? id, 8192, 1, "base/1/1259"), new BackupChain.Entry(id, 100, 0, "backup_label") };
        var manifest = new BackupManifest
        {
            BackupId = id,
            InstanceId = "db",
            Engine = "postgresql",
            Source = "data directory",
            DataKey = "db/" + id,
            Filters = [],
            PlaintextBytes = 1,
            StoredBytes = 1,
            PlaintextDigest = "00",
            StoredSha256 = "00",
            StartedAt = Day.AddDays(day),
            CompletedAt = Day.AddDays(day),
            Properties = BackupChain.ToProperties([.. parents, id], files),
        };
        return new BackupRecord
        {
            Id = id,
            InstanceId = "db",
            Service = "postgresql",
            Kind = "incremental",
            State = BackupState.Succeeded,
            Storage = "filesystem",
            Key = "db/" + id,
            StartedAt = Day.AddDays(day),
            CompletedAt = Day.AddDays(day),
            ManifestJson = Encoding.UTF8.GetString(ManifestStore.Serialize(manifest)),
        };
    }
}
