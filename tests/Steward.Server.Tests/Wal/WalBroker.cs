using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Wal;

/// <summary>A broker whose instances switch WAL segments every 2 s and whose archive lag is measured every 0.5 s.</summary>
public sealed class WalBroker : IAsyncLifetime
{
    public StewardServer Server { get; private set; } = null!;

    public static Dictionary<string, string> FastArchiving(Dictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["STEWARD_WAL_ARCHIVE_TIMEOUT"] = "2",
            ["STEWARD_WAL_MONITOR_INTERVAL_MS"] = "500",
            ["STEWARD_WAL_LAG_ALERT"] = "4",
            // A commit at every check, as before the heartbeat interval: tests that take the server's clock and wait
            // until that moment is recoverable need a commit after it (a user's own next commit, in real use).
            ["STEWARD_POSTGRESQL_HEARTBEAT_INTERVAL"] = "0",
        };
        foreach (var (k, v) in more ?? [])
        {
            settings[k] = v;
        }

        return settings;
    }

    public async Task InitializeAsync() => Server = await StewardServer.StartAsync(FastArchiving());

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition("wal")]
public sealed class WalCollection : ICollectionFixture<WalBroker>;

/// <summary>The WAL and point-in-time restore API as tests use it.</summary>
internal static class Pitr
{
    public const string Pg = Catalogs.PostgreSql;
    public const string Plan = Catalogs.PostgreSqlStandalone;

    /// <summary>Provisions, binds, creates table t(v int, at timestamptz) and returns the binding URI.</summary>
    public static async Task<string> InstanceAsync(OsbClient osb, string id)
    {
        await osb.ProvisionReadyAsync(id, Pg, Plan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, Plan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE t (v int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        return uri;
    }

    /// <summary>Inserts one row in its own transaction and returns the server time just after it committed.</summary>
    public static async Task<DateTimeOffset> InsertAsync(string uri, int v)
    {
        await Sql.ExecAsync(uri, $"INSERT INTO t (v) VALUES ({v})");
        return await ServerClockAsync(uri);
    }

    /// <summary>The instance's server clock, the one recovery targets are read against.</summary>
    public static async Task<DateTimeOffset> ServerClockAsync(string uri) =>
        DateTimeOffset.Parse((await Sql.ScalarAsync(uri, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"))!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);

    /// <summary>Polls the server's clock until it has passed <paramref name="at"/>, so commits before and after it are told apart by time.</summary>
    public static async Task WaitServerClockAsync(string uri, DateTimeOffset at, int seconds = 30)
    {
        var clock = Stopwatch.StartNew();
        while (await ServerClockAsync(uri) < at)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(seconds), $"the server's clock did not pass {at:O}");
            await Task.Delay(50);
        }
    }

    public static async Task<string> RowsAsync(string uri) =>
        (await Sql.ScalarAsync(uri, "SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '') FROM t"))!;

    public static Task<Reply> WindowAsync(OsbClient osb, string id) => osb.ApiAsync($"/instances/{id}/recovery-window");

    public static Task<Reply> StatusAsync(OsbClient osb, string id) => osb.ApiAsync($"/instances/{id}/wal");

    /// <summary>Waits until the latest recoverable time reaches <paramref name="at"/>; returns how long that took.</summary>
    public static async Task<TimeSpan> WaitRecoverableAsync(OsbClient osb, string id, DateTimeOffset at, int seconds = 90)
    {
        var clock = Stopwatch.StartNew();
        Reply? last = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            last = await WindowAsync(osb, id);
            if (last.Status == HttpStatusCode.OK && last.Body.TryGetProperty("latest_recoverable_time", out var l) && l.ValueKind == JsonValueKind.String && l.GetDateTimeOffset() >= at)
            {
                return clock.Elapsed;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{at:O} not recoverable within {seconds} s: {last}");
    }

    /// <summary>Waits until the server has nothing left to archive.</summary>
    public static async Task<Reply> WaitArchivedAsync(OsbClient osb, string id, int seconds = 120)
    {
        var clock = Stopwatch.StartNew();
        Reply? last = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            last = await StatusAsync(osb, id);
            if (last.Status == HttpStatusCode.OK && last.Body.TryGetProperty("pending_segments", out var pending) && pending.GetInt32() == 0
                && last.Body.TryGetProperty("last_archived_segment", out var segment) && segment.ValueKind == JsonValueKind.String)
            {
                return last;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"archiving of {id} did not catch up within {seconds} s: {last}");
    }

    public static Task<Reply> StartRestoreAsync(OsbClient osb, string id, object target) => osb.PostAsync($"/instances/{id}/point-in-time-restore", target);

    /// <summary>Restores to a target and fails the test unless it succeeded.</summary>
    public static async Task<Reply> RestoreAsync(StewardServer server, string id, object target)
    {
        var started = await StartRestoreAsync(server.Client, id, target);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var done = await server.Client.WaitAsync(id, started.Str("operation"), 300);
        done.Str("state").ShouldBe("succeeded", done + "\n" + server.Log[^Math.Min(server.Log.Length, 4000)..]);
        return done;
    }

    /// <summary>The archived segment names of timeline 1..n, and whether they are contiguous.</summary>
    public static async Task<IReadOnlyList<string>> SegmentsAsync(OsbClient osb, string id)
    {
        var files = (await osb.ApiAsync($"/instances/{id}/wal/files")).Body.GetProperty("files");
        return [.. files.EnumerateArray().Where(f => f.GetProperty("kind").GetString() == "segment").Select(f => f.GetProperty("name").GetString()!)];
    }

    public static long SegmentNumber(string name) =>
        (long.Parse(name[8..16], NumberStyles.HexNumber, CultureInfo.InvariantCulture) * 256) + long.Parse(name[16..24], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>Fails unless the segments of each timeline form one run without a gap.</summary>
    public static void ShouldHaveNoGap(IReadOnlyList<string> segments)
    {
        foreach (var timeline in segments.GroupBy(s => s[..8]))
        {
            var numbers = timeline.Select(SegmentNumber).Order().ToList();
            for (var i = 1; i < numbers.Count; i++)
            {
                (numbers[i] - numbers[i - 1]).ShouldBe(1, $"gap after segment {numbers[i - 1]:X} on timeline {timeline.Key}: {string.Join(", ", timeline)}");
            }
        }
    }
}
