using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Steward.Runtime.Local;
using Steward.Server.Rebuild;
using Steward.State.Sqlite;
using Steward.Supervision;

namespace Steward.Server.Tests.Rebuild;

/// <summary>Preserved files are kept for their retention time, then removed — logged and noted in their incident, never silently.</summary>
public sealed class PreservedSweeperTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("preserved-").FullName;

    public PreservedSweeperTests() => File.SetUnixFileMode(_root, (UnixFileMode)0b111_001_001);

    [Fact]
    public async Task A_preserved_copy_is_kept_within_its_retention_and_removed_after_it_with_a_note_in_its_incident()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        var runtime = new LocalProcessRuntime(new LocalRuntimeOptions { InstancesRoot = Path.Combine(_root, "instances"), ServiceUser = Environment.UserName }, NullLogger<LocalProcessRuntime>.Instance);
        var store = new SqliteStateStore(Path.Combine(_root, "steward.db"), Steward.Security.CredentialKey.LoadOrCreate(Path.Combine(_root, "credentials.key")));
        await store.InitializeAsync(CancellationToken.None);

        var old = runtime.PathsFor("iold");
        var recent = runtime.PathsFor("irecent");
        foreach (var paths in new[] { old, recent })
        {
            Directory.CreateDirectory(paths.DataDir);
            await File.WriteAllTextAsync(Path.Combine(paths.DataDir, "file"), "kept for inspection");
        }

        var oldCopy = await runtime.PreserveAsync(old, "iold.op-1", clock.GetUtcNow(), CancellationToken.None);
        Directory.Exists(old.Root).ShouldBeFalse("the instance's place is empty after its files are moved aside");
        File.ReadAllText(Path.Combine(oldCopy, "data", "file")).ShouldBe("kept for inspection");
        (await runtime.PreserveAsync(old, "iold.op-1", clock.GetUtcNow(), CancellationToken.None)).ShouldBe(oldCopy, "preserving again finds the same copy");
        var now = clock.GetUtcNow();
        await store.SaveIncidentAsync(new Incident { Id = "inc-old", InstanceId = "db", Class = FailureClass.DataCorruption, State = IncidentState.Resolved, Summary = "rebuilt", PreservedPath = oldCopy, OpenedAt = now, UpdatedAt = now }, CancellationToken.None);

        clock.Advance(TimeSpan.FromDays(6));
        var recentCopy = await runtime.PreserveAsync(recent, "irecent.op-2", clock.GetUtcNow(), CancellationToken.None);
        var sweeper = new PreservedSweeper(runtime, store, Microsoft.Extensions.Options.Options.Create(new PreservedOptions()), clock, NullLogger<PreservedSweeper>.Instance);
        (await sweeper.SweepAsync(TimeSpan.FromDays(7), CancellationToken.None)).ShouldBe(0, "nothing is older than 7 days yet");

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        (await sweeper.SweepAsync(TimeSpan.FromDays(7), CancellationToken.None)).ShouldBe(1);
        Directory.Exists(oldCopy).ShouldBeFalse();
        Directory.Exists(recentCopy).ShouldBeTrue("a copy within its retention stays");
        var incident = (await store.GetIncidentAsync("inc-old", CancellationToken.None))!;
        incident.Timeline.Last().Kind.ShouldBe("preserved-removed");
        incident.Timeline.Last().Detail.ShouldContain(oldCopy);
    }

    [Fact]
    public async Task Only_a_preserved_copy_can_be_removed_through_the_runtime()
    {
        var runtime = new LocalProcessRuntime(new LocalRuntimeOptions { InstancesRoot = Path.Combine(_root, "instances"), ServiceUser = Environment.UserName }, NullLogger<LocalProcessRuntime>.Instance);
        Directory.CreateDirectory(Path.Combine(_root, "instances", "ilive"));
        await Should.ThrowAsync<ArgumentException>(() => runtime.DeletePreservedAsync(Path.Combine(_root, "instances", "ilive"), CancellationToken.None));
        await Should.ThrowAsync<ArgumentException>(() => runtime.DeletePreservedAsync(Path.Combine(_root, "preserved", "..", "instances"), CancellationToken.None));
        Directory.Exists(Path.Combine(_root, "instances", "ilive")).ShouldBeTrue();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
